#!/usr/bin/env bash
# Rebuild the editor bundle that resonator studio ships (no network at run time):
#   src/resonator/studio/static/vendor/codemirror.min.js      CodeMirror 6 (MIT), minified
#   src/resonator/studio/static/vendor/codemirror.LICENSES.txt every bundled package's licence
# Versions are pinned in package.json and package-lock.json (npm ci installs exactly those).
set -euo pipefail
cd "$(dirname "$0")"
out=../../src/resonator/studio/static/vendor
mkdir -p "$out"
npm ci --no-audit --no-fund
npx esbuild entry.js --bundle --minify --format=iife --global-name=CM --legal-comments=none \
    --target=es2020 --metafile=meta.json --outfile="$out/codemirror.min.js"
node - "$out/codemirror.LICENSES.txt" <<'JS'
const fs = require("fs"), path = require("path");
const meta = JSON.parse(fs.readFileSync("meta.json", "utf8"));
const pkgs = new Set();
for (const input of Object.keys(meta.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) pkgs.add(m[1]);
}
let text = "Packages bundled into codemirror.min.js (built by tools/studio-editor/build.sh)\n\n";
for (const name of [...pkgs].sort()) {
  const dir = path.join("node_modules", name);
  const pj = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const lic = fs.readdirSync(dir).find(f => /^licen[cs]e/i.test(f));
  text += `==== ${name} ${pj.version} (${pj.license})\n`;
  text += lic ? fs.readFileSync(path.join(dir, lic), "utf8").trim() + "\n\n" : "(no licence file)\n\n";
}
fs.writeFileSync(process.argv[2], text);
JS
rm -f meta.json
ls -l "$out"
