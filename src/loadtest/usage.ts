export const USAGE = `Usage: sutazai loadtest <scenario> --url URL [flags]

Scenarios
  progressive   stages of increasing load (--stages 5,25,100,500,1000, --stage-duration 30s)
  spike         baseline, sudden jump, back to baseline; time until latency is back to baseline
  endurance     fixed load for --duration (default 5m); latency drift and server memory over time
  overhead      gateway (--url) vs direct upstream (--direct URL) at --concurrency 1,16,64,256
  report        regenerate docs/performance.md (starts simulator and gateway itself; --dry-run)

Target
  --url URL                 base URL of the server under test (required)
  --target MODE             sutazai (default: /api/v1/*, /health) | openai (/v1/chat/completions)
                            | ollama (/api/chat)
  --model NAME              model to request (required for openai/ollama)
  --max-tokens N            completion length limit sent with each chat request
  --header "Name: value"    extra request header, repeatable (e.g. Authorization)
  --timeout 30s             max wait for response headers, and max gap between body chunks

Load
  --mix repeat=70,fresh=10,stream=10,health=10,task=0
                            weighted request mix: repeat = repeated prompts (cache hits),
                            fresh = unique prompts, stream = streaming chat (TTFT, inter-token),
                            health = GET health route, task = submit a task and poll until final
  --repeat-prompts 10       size of the repeated-prompt pool
  --loop closed|open        closed (default): N users, each waits for its reply then thinks;
                            open: fixed arrival rate, stages/loads are requests per second
  --think 1s                closed loop: mean think time (0 for overhead); --think-jitter 0.5
  --warmup 1s               start of each stage excluded from its statistics
  --users 100 / --rate 100  endurance load (closed / open loop)
  --duration 5m             endurance length; overhead: length of each measurement (default 10s)
  --windows 10              endurance: windows for drift
  --spike-baseline 10 --spike-peak 500
  --spike-baseline-duration 10s --spike-duration 10s --spike-after-duration 20s
  --recovery-window 500ms --recovery-tolerance 1.5 --recovery-slack 5ms --recovery-windows 3
                            recovered = N consecutive windows (by request start) whose median is
                            <= max(baseline p50 x tolerance, baseline p50 + slack)
  --direct URL --direct-target ollama --concurrency 1,16,64,256   (overhead)
  --connections 256         open loop: connection pool size
  --max-inflight 10000      open loop: arrivals beyond this are counted as not_sent errors
  --late 10ms               open loop: dispatches later than this are counted as late
  --task-type text_generation --task-poll 200ms --task-timeout 120s
  --workers N               spread the load over N worker threads (default 1)
  --seed 1                  request sequence seed

SLO (exit code 0 = pass, 1 = fail; latency over successful requests, errors of every kind)
  --slo-ttft-p95 1000ms     streamed time to first token, p95 (\`off\` = not checked)
  --slo-p50 / --slo-p95 / --slo-p99 MS   total latency; not checked unless given (it grows with
                            answer length: set it from your model's speed)
  --slo-error-rate 1        percent
  --slo-recovery 5s         spike: maximum recovery time
  --no-slo                  report only, exit 0

Output
  --json FILE               full report as JSON
  --html FILE               self-contained HTML report with charts
  --quiet                   no live progress line
  --no-server-metrics       do not poll the server's metrics API
  --metrics-path PATH       repeatable; default /api/v1/metrics then /api/v1/status
  --metrics-interval 2s

Exit codes: 0 pass, 1 SLO failed / target unreachable / interrupted, 2 bad arguments.
`;
