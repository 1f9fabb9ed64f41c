"""Great Expectations Data Docs that load offline: local copies of the CDN assets GX's page templates name.

GX 1.24's Data Docs templates load jQuery, Popper, Bootstrap, bootstrap-table, bootstrap-datepicker, a dark theme,
Vega / Vega-Lite / Vega-Embed and Font Awesome from CDNs, and GX's logo from its S3 bucket; offline each one fails
and `$ is not defined` follows. GX's own template override (`plugins/custom_data_docs/views`) cannot fix that: its
loader is consulted *after* GX's built-in templates, so a custom `js_script_imports.j2` or `page.j2` is never used.

So the mechanism is a post-build step, `localize_site`, called by `unionstat.validate` right after every
`build_data_docs`:

1. `vendor/` of this folder (the minified files, fonts and licences, each recorded in `MANIFEST.json` with package,
   version, source file, licence and sha256) is copied into the site as `static/vendor/`;
2. in every page and stylesheet of the site, exactly the URLs listed in the manifest (`replaces`) become paths
   relative to that page, dropping the `integrity` / `crossorigin` attributes beside them (the integrity GX pins is
   checked against the local file first: a mismatch fails); GX's two S3 logo URLs become the `logo-long.png` GX ships
   in `static/images/`; links to the site's own `static/` folder are made relative to each page's real depth (GX's
   favicon link on validation-result pages climbs one level too few);
3. a script, stylesheet, image or CSS `url()` that still points off-site raises `DataDocsNotOffline`, naming the page
   and the URL (a GX upgrade that adds or changes an asset fails here, not silently in a reader's browser).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from unionstat.errors import UnionstatError

LOG = logging.getLogger(__name__)
ASSETS_DIR = Path(__file__).resolve().parent
MANIFEST = ASSETS_DIR / "MANIFEST.json"
SITE_VENDOR = "static/vendor"
# GX's logo on its S3 bucket (the navbar image, with a timestamp and the context id, and the dark theme's background):
# both become the logo GX copies into every site's static/images/ (GX ships no dark variant).
GX_LOGO_URL = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/(?:logo-long|full_logo_dark)\.png"
    r"(?:\?[^\"'\s)<>]*)?"
)
GX_LOGO_LOCAL = "static/images/logo-long.png"
SITE_STATIC_LINK = re.compile(r"(?P<attr>src|href)=\"(?:\./|(?:\.\./)*)static/(?P<rest>[^\"]+)\"")
# Anything a browser would fetch by itself: scripts, stylesheets and other <link>s, images and media, CSS url()/@import.
OFF_SITE = "(?:https?:)?//"
EXTERNAL_ASSET = re.compile(
    rf"<(?:script|img|iframe|source|embed|audio|video|input)\b[^>]*?\ssrc\s*=\s*[\"']?(?P<src>{OFF_SITE}[^\"'\s>]+)"
    rf"|<link\b[^>]*?\shref\s*=\s*[\"']?(?P<href>{OFF_SITE}[^\"'\s>]+)"
    rf"|url\(\s*[\"']?(?P<url>{OFF_SITE}[^\"')\s]+)"
    rf"|@import\s+[\"'](?P<import>{OFF_SITE}[^\"']+)",
    re.IGNORECASE,
)


class DataDocsNotOffline(UnionstatError):
    """A Data Docs page still loads something from off-site, or pins a file other than the local copy."""


@dataclass(frozen=True)
class Asset:
    file: str  # relative to this folder, e.g. vendor/jquery-3.7.1/jquery.min.js
    replaces: tuple[str, ...]
    sri_sha384: str


@cache
def manifest_assets() -> tuple[Asset, ...]:
    """The vendored files of MANIFEST.json, each checked against its recorded sha256."""
    spec = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assets = []
    for entry in spec["assets"]:
        data = (ASSETS_DIR / entry["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise DataDocsNotOffline(
                f"{ASSETS_DIR / entry['file']}: expected sha256 {entry['sha256']} (as in {MANIFEST}); the file differs"
            )
        sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")
        assets.append(Asset(entry["file"], tuple(entry["replaces"]), sri))
    return tuple(assets)


def external_asset_urls(text: str) -> list[str]:
    """Every URL in an HTML page or stylesheet that a browser would fetch from another host."""
    return [next(url for url in match.groups() if url) for match in EXTERNAL_ASSET.finditer(text)]


def localize_site(site_dir: Path) -> int:
    """Copy the vendored assets into a built Data Docs site and point its pages at them; returns pages rewritten."""
    vendor = site_dir / SITE_VENDOR
    shutil.copytree(ASSETS_DIR / "vendor", vendor, dirs_exist_ok=True)
    shutil.copy2(MANIFEST, vendor / MANIFEST.name)
    rewritten = 0
    for path in sorted([*site_dir.rglob("*.html"), *site_dir.rglob("*.css")]):
        if vendor in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        new = _localize(text, path, "../" * (len(path.relative_to(site_dir).parts) - 1))
        remaining = external_asset_urls(new)
        if remaining:
            raise DataDocsNotOffline(
                f"{path}: expected every script, stylesheet, font and image of the Data Docs to be local "
                f"(known CDN URLs are in {MANIFEST}); still off-site: {sorted(set(remaining))}"
            )
        if new != text:
            path.write_text(new, encoding="utf-8")
            rewritten += 1
    LOG.info("data docs: %d pages and stylesheets now load their assets from %s", rewritten, vendor)
    return rewritten


def _localize(text: str, path: Path, to_root: str) -> str:
    for asset in manifest_assets():
        local = to_root + SITE_VENDOR + "/" + asset.file.removeprefix("vendor/")
        for url in asset.replaces:
            if url not in text:
                continue
            pattern = re.compile(
                rf"(?P<attr>src|href)=\"{re.escape(url)}\"(?P<extra>(?:\s+(?:integrity|crossorigin)=\"[^\"]*\")*)"
            )
            for match in pattern.finditer(text):
                pinned = re.search(r"integrity=\"([^\"]*)\"", match["extra"])
                if pinned and pinned[1] != asset.sri_sha384:
                    raise DataDocsNotOffline(
                        f"{path}: {url} is pinned to {pinned[1]}, but the local copy {asset.file} is "
                        f"{asset.sri_sha384}; vendor the pinned file"
                    )
            text = pattern.sub(r'\g<attr>="' + local + '"', text)  # local: a relative POSIX path, no backslash
    text = GX_LOGO_URL.sub(to_root + GX_LOGO_LOCAL, text)
    # GX's favicon.j2 climbs one level too few on validation-result pages (a 404 and a console error): every link to
    # the site's static/ folder is made relative to the page's real depth.
    return SITE_STATIC_LINK.sub(lambda m: f'{m["attr"]}="{to_root}static/{m["rest"]}"', text)
