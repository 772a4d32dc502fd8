// sarif_validate.js TOOLS_DIR SCHEMA.json FILE.sarif... — validate SARIF logs against the SARIF
// 2.1.0 JSON schema with ajv (installed in TOOLS_DIR by scripts/deps-sarif.sh). The published
// schema holds one pattern that is valid only as a non-Unicode JavaScript regex, hence
// unicodeRegExp: false. Exit status 1 and the schema errors on the first invalid file.
'use strict';
const fs = require('fs');
const path = require('path');
const [tools, schemaPath, ...files] = process.argv.slice(2);
const mod = (name) => require(path.join(tools, 'node_modules', name));
const Ajv = mod('ajv');
const addFormats = mod('ajv-formats');
const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
let bad = 0;
for (const f of files) {
  const data = JSON.parse(fs.readFileSync(f, 'utf8'));
  if (validate(data)) {
    console.log(`${f}: valid SARIF 2.1.0 (${data.runs[0].results.length} results)`);
  } else {
    bad++;
    console.log(`${f}: INVALID`);
    for (const e of validate.errors.slice(0, 20)) console.log(`  ${e.instancePath || '/'} ${e.message}`);
  }
}
process.exit(bad ? 1 : 0);
