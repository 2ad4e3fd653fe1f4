/**
 * A load balancer as the test's client side: it routes to gateways whose GET /ready answers 200
 * (polled every 100 ms, like a Kubernetes readiness probe or an nginx/HAProxy health check), and
 * retries a request refused with 503 + Retry-After on another instance. Anything else is returned
 * as is; a transport error (connection refused or reset, a body cut short) is recorded as a failure.
 */
export interface Instance {
  name: string;
  url: string;
  ready: boolean;
  /** Traffic requests sent to this process (the /ready polls are not traffic). */
  sent: number;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  instance: Instance;
}

export interface Balancer {
  /** Replace the instance called `name` (a restarted process is a new instance). */
  put(instance: Instance): void;
  instances(): Instance[];
  /** Through the balancer; undefined after a transport failure (recorded in `failures`). */
  send(path: string, init?: RequestInit): Promise<Answer | undefined>;
  /** Straight to one instance, counted like balanced traffic. */
  direct(instance: Instance, path: string, init?: RequestInit): Promise<Answer>;
  failures: string[];
  /** 503s with Retry-After that were retried elsewhere. */
  refused: Array<{ instance: string; body: string }>;
  close(): void;
}

export function createBalancer(): Balancer {
  const pool = new Map<string, Instance>();
  const failures: string[] = [];
  const refused: Balancer['refused'] = [];
  let turn = 0;

  const poll = setInterval(() => {
    for (const inst of pool.values()) {
      fetch(`${inst.url}/ready`, { signal: AbortSignal.timeout(500) }).then(
        async (r) => {
          await r.arrayBuffer();
          inst.ready = r.status === 200;
        },
        () => (inst.ready = false),
      );
    }
  }, 100);

  async function direct(inst: Instance, path: string, init?: RequestInit): Promise<Answer> {
    inst.sent++;
    const r = await fetch(`${inst.url}${path}`, init);
    return { status: r.status, headers: r.headers, text: await r.text(), instance: inst };
  }

  async function pick(): Promise<Instance> {
    for (;;) {
      const ready = [...pool.values()].filter((i) => i.ready);
      const inst = ready[turn++ % Math.max(1, ready.length)];
      if (inst) return inst;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  return {
    put: (inst) => void pool.set(inst.name, inst),
    instances: () => [...pool.values()],
    direct,
    async send(path, init) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const inst = await pick();
        let answer: Answer;
        try {
          answer = await direct(inst, path, init);
        } catch (err) {
          const cause = (err as Error & { cause?: Error }).cause;
          failures.push(`${inst.name} ${path}: ${(err as Error).message} ${cause?.message ?? ''}`);
          return undefined;
        }
        if (answer.status !== 503 || !answer.headers.get('retry-after')) return answer;
        refused.push({ instance: inst.name, body: answer.text });
        inst.ready = false;
      }
      failures.push(`${path}: refused 5 times`);
      return undefined;
    },
    failures,
    refused,
    close: () => clearInterval(poll),
  };
}
