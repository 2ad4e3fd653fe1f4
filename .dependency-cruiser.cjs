// Dependency direction of src/, checked in CI (`npm run check:deps`). docs/architecture.md explains it.
//
// The gateway's folders in layers, lowest first. A folder imports only from its own folder and from
// lower layers; folders in the same layer do not import each other. So no folder can ever sit in an
// import cycle with another, and the core (pipeline, upstreams, cache, queue, store, metrics, config,
// errors) can never reach the HTTP edge, the CLI or the composition root. A new folder gets a layer
// here (e.g. auth/ and limits/ beside queue/: they use store/ and cache/, and http/ uses them).
const LAYERS = [
  ['errors', 'version.ts'],
  ['config'], // reads settings; may describe their problems with errors/
  ['pipeline'],
  ['upstreams', 'cache', 'store'],
  ['queue', 'auth', 'limits', 'usage', 'admission'], // auth: keys; limits: per-key rates; usage: the usage log; admission: the per-model wait queue stage
  ['metrics'],
  ['gateway'], // the composition root: builds every service, orders the stages
  ['http'], // the HTTP edge: buildApp(), one plugin per route group
  ['cli'], // entry points
];
const TOOLS = ['sim', 'loadtest']; // stand apart from the gateway (see rules below)

const re = (names) => `^src/(${names.map((n) => n.replace('.', '\\.')).join('|')})($|/)`;

const layerRules = LAYERS.flatMap((layer, i) =>
  layer.map((folder) => {
    const sameOrHigher = LAYERS.slice(i)
      .flat()
      .filter((f) => f !== folder);
    return {
      name: `layer-${folder.replace('.ts', '')}`,
      comment: `src/${folder} may import only from lower layers: ${LAYERS.slice(0, i).flat().join(', ') || 'nothing in src'}`,
      severity: 'error',
      from: { path: re([folder]) },
      to: { path: re(sameOrHigher) },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles between files (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'sim-stands-apart',
      comment:
        'The simulator implements the wire formats on its own, from docs/protocols.md: it imports no gateway code, so a mistake shared with the adapters cannot pass the tests.',
      severity: 'error',
      from: { path: '^src/sim/' },
      to: { path: '^src/', pathNot: '^src/sim/' },
    },
    {
      name: 'loadtest-uses-public-api',
      comment:
        "The load tester talks to servers over their public HTTP API only: no gateway code (it may share the simulator's seeded RNG).",
      severity: 'error',
      from: { path: '^src/loadtest/' },
      to: { path: '^src/', pathNot: '^src/(loadtest/|sim/rng\\.ts$)' },
    },
    {
      name: 'tools-only-from-cli',
      comment: 'Only the CLI starts the simulator or the load tester.',
      severity: 'error',
      from: { path: '^src/', pathNot: re(['cli', ...TOOLS]) },
      to: { path: re(TOOLS) },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type cycle is still a cycle a reader has to untangle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
