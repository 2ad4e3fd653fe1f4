// Preloaded into the process under test (`node --import`): V8's sampling heap
// profiler, counting objects that GC has already collected too (the default counts only live
// ones), so the profile shows everything allocated, which is what drives GC time. SIGUSR2 stops
// it and writes the profile to $HEAP_OUT. Used by bench/profile.mjs --heap.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
const post = (method, params) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
  );
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
process.on('SIGUSR2', () => {
  post('HeapProfiler.stopSampling').then(({ profile }) => {
    // Written aside and renamed, so a reader waiting for the file never sees half of it.
    writeFileSync(`${process.env.HEAP_OUT}.part`, JSON.stringify(profile));
    renameSync(`${process.env.HEAP_OUT}.part`, process.env.HEAP_OUT);
    process.stderr.write('heap profile written\n');
  });
});
