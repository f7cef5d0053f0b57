// The pipeline's boundaries, checked (`npm run lint`, run by `npm test`). Imports go one way:
//   net <- model <- compiler -> IR;  readers -> IR;  node -> IR + readers;
//   the simulator reads only the node value;  the analyses (explain <- diff, explain <- findings)
//   read the node value, the simulator and the objects' names;  modes and golden sit above them;
//   reports (src/report: a trace as a person reads it) read the simulator's results and the node,
//   and only the CLI reads reports;  only bin/ and src/cli/ touch the file system and the process.
// A reader should know from a file's path alone what it may import. Type-only imports follow the
// same rules: a layer that names another's types depends on it.
import tseslint from 'typescript-eslint';

/** Import paths of each layer, as no-restricted-imports patterns (gitignore style, matched against the import string). */
const LAYER = {
  model: ['**/model/*'],
  compiler: ['**/compiler/*', '**/compiler/**'],
  readers: ['**/iptables-save/*', '**/ipset/parse*', '**/ipvs/parse*', '**/nftables/parse*', '**/nftables/reader*', '**/iproute2/*', '**/sysctl/*'],
  simulator: ['**/packetsim/*', '**/packetsim/**', '**/packetsim-*/*', '**/packetsim-*/**'],
  node: ['**/node/*'],
  golden: ['**/golden/*'],
  modes: ['**/modes', '**/modes.js'],
  cli: ['**/cli/*'],
  // explain, diff and lint read the node value (and the objects' names) for people: above the simulator and the compiler.
  analysis: ['**/explain/*', '**/diff/*', '**/findings/*'],
  explain: ['**/explain/*'],
  diff: ['**/diff/*'],
  findings: ['**/findings/*'],
  report: ['**/report/*'],
  host: ['node:fs', 'fs', 'node:fs/*', 'node:child_process', 'child_process', 'node:process', 'process', 'node:os', 'os', 'node:worker_threads'],
};

function forbid(from, layers, why) {
  return {
    files: from,
    rules: {
      'no-restricted-imports': ['error', { patterns: layers.map((l) => ({ group: LAYER[l], message: `${why} (eslint.config.js: the pipeline's boundaries)` })) }],
    },
  };
}

const ABOVE_THE_IR = ['model', 'compiler', 'simulator', 'node', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'];

export default [
  { ignores: ['dist/**', 'node_modules/**', '**/*.generated.js', '**/*.generated.cjs', 'test/**', 'bench/**', 'scripts/**', 'eslint.config.js'] },
  {
    files: ['src/**/*.ts', 'bin/**/*.ts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
  },
  // The leaves: values and diagnostics import nothing of ours.
  forbid(['src/net/**/*.ts'], ['model', 'compiler', 'readers', 'simulator', 'node', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'], 'src/net is the leaf every stage reads: it imports nothing of ours'),
  forbid(['src/diag/**/*.ts'], ['model', 'compiler', 'readers', 'simulator', 'node', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'], 'src/diag is a leaf: it imports nothing of ours'),
  // IRs and their readers and renderers know neither the objects nor what is built from them.
  forbid(['src/iptables/**/*.ts', 'src/iptables-save/**/*.ts', 'src/ipset/**/*.ts', 'src/ipvs/**/*.ts', 'src/nftables/**/*.ts', 'src/iproute2/**/*.ts', 'src/sysctl/**/*.ts'], ABOVE_THE_IR, 'a reader or IR imports neither the model, the compiler, the simulator nor the node'),
  forbid(['src/model/**/*.ts'], ['compiler', 'readers', 'simulator', 'node', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'], 'the model imports only src/net and src/diag'),
  forbid(['src/compiler/**/*.ts'], ['readers', 'simulator', 'node', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'], 'the compiler turns objects into IR: it imports no reader and not the simulator'),
  forbid(['src/node/**/*.ts'], ['model', 'compiler', 'simulator', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'], 'the node is built from IR and readers only'),
  {
    files: ['src/packetsim/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...['model', 'compiler', 'readers', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'].map((l) => ({ group: LAYER[l], message: 'the simulator reads only the node value (eslint.config.js)' })),
            { group: ['**/packetsim-*/*', '**/packetsim-*/**'], message: 'the simulator core never names a mode: extensions plug in through src/modes.ts (eslint.config.js)' },
          ],
        },
      ],
    },
  },
  forbid(['src/packetsim-*/**/*.ts'], ['model', 'compiler', 'readers', 'golden', 'modes', 'cli', 'report', 'host', 'analysis'], 'a simulator extension reads only the node value and its IR'),
  // The analyses return values: no mode table (its rows name them), no golden cases, no reports, no process. explain is the base the other two share.
  forbid(['src/explain/**/*.ts'], ['golden', 'modes', 'cli', 'report', 'host', 'diff', 'findings'], 'explain reads the node value and the names; diff and lint build on it, not the other way'),
  forbid(['src/diff/**/*.ts'], ['golden', 'modes', 'cli', 'report', 'host', 'findings'], 'diff reads the node value, the simulator and explain; the CLI and the mode table call it'),
  forbid(['src/findings/**/*.ts'], ['golden', 'modes', 'cli', 'report', 'host', 'diff'], 'lint findings read the node value and explain (and exact fractions) only'),
  // (One rule per file set: a later no-restricted-imports for the same files replaces an earlier one.)
  forbid(['src/modes.ts'], ['cli', 'report', 'host'], 'only the CLI touches the file system and the process, and only the CLI prints reports'),
  forbid(['src/golden/**/*.ts'], ['cli', 'report', 'host', 'analysis'], 'only the CLI touches the file system and the process, and only the CLI prints reports; golden verification does not depend on explain, diff or lint'),
  // A trace as a person reads it: the simulator's results and the node value in, text (and later
  // HTML) out. It neither compiles, reads dumps nor touches the process; only the CLI imports it.
  forbid(['src/report/**/*.ts'], ['model', 'compiler', 'readers', 'golden', 'modes', 'cli', 'host', 'analysis'], 'a report reads the simulator\'s results and the node value only'),
  // Only the CLI touches the process.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-globals': ['error', { name: 'process', message: 'only bin/ and src/cli/ touch the process (eslint.config.js)' }],
    },
  },
];
