// Runs the independent differ (npm `api-smart-diff`) on pairs of OpenAPI 3 documents.
// Usage: node asd.cjs MODULE_DIR PAIRS_JSON
//   PAIRS_JSON: [{"before": "a.json", "after": "b.json"}, ...]
// Prints one JSON array per pair (in order) on one line: the diffs it calls breaking, each
// {"action", "path"}.
"use strict";
const fs = require("fs");
const asd = require(process.argv[2]);
const pairs = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const read = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const out = pairs.map(({ before, after }) =>
  asd
    .apiDiff(read(before), read(after))
    .filter((d) => d.type === "breaking")
    .map((d) => ({ action: d.action, path: d.path.map(String) }))
);
process.stdout.write(JSON.stringify(out) + "\n");
