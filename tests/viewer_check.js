#!/usr/bin/env node
/* viewer_check.js -- drive the web map viewer of a running `tgis serve` in
 * headless Chromium (puppeteer-core, Debian's chromium) the way a planner
 * uses it, and check what the page shows and every request it makes.
 *
 * usage: node viewer_check.js FIXTURE.json
 *   FIXTURE: {"url": "http://127.0.0.1:PORT/", "chromium": "/usr/bin/chromium",
 *             "out": DIR for screenshots, "style": data/styles/base.yaml,
 *             "parcel": {"cadastre", "lon", "lat"},      a point inside it
 *             "facility": {"name", "lon", "lat"}}
 * Prints "ok"/"FAIL" per check and ends with "N passed, N failed"; exits 1
 * when a check failed, 2 when the browser could not be driven at all.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const fx = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const TIMEOUT = 60000;
let passed = 0, failed = 0;

function ok(name) { passed++; console.log('ok   ' + name); }
function fail(name, why) { failed++; console.log('FAIL ' + name + ': ' + why); }
function check(name, cond, why) { cond ? ok(name) : fail(name, why); return cond; }

/* Metres between two lon/lat points (haversine; plenty for tens of metres). */
function metres(lon1, lat1, lon2, lat2) {
  const r = Math.PI / 180, R = 6371008.8;
  const a = Math.sin((lat2 - lat1) * r / 2) ** 2 +
    Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}

/* The fill colours of the road layers of the base style (those with a
 * casing: the roads proper, not the dashed paths), as [r, g, b]. A plain
 * reading of the YAML is enough for a file whose layout this repo owns. */
function roadColours(stylePath) {
  const text = fs.readFileSync(stylePath, 'utf8');
  const blocks = text.split(/\n\s*- id:/).slice(1);
  const out = [];
  for (const b of blocks) {
    if (!/\n\s*source:\s*roads\b/.test(b) || !/\n\s*casing:/.test(b)) continue;
    const m = /\n\s*stroke:\s*"#([0-9a-fA-F]{6})"/.exec(b);
    if (!m) continue;
    const c = [0, 2, 4].map((i) => parseInt(m[1].substr(i, 2), 16));
    if (!out.some((o) => o.join() === c.join())) out.push(c);
  }
  return out;
}

/* Every response and failure of a page, kept for the network checks. */
function recorder(page) {
  const rec = { responses: [], failures: [], errors: [] };
  page.on('response', (r) => {
    rec.responses.push({ url: r.url(), status: r.status(), type: (r.headers()['content-type'] || '') });
  });
  page.on('requestfailed', (r) => {
    rec.failures.push({ url: r.url(), reason: r.failure() ? r.failure().errorText : '?' });
  });
  page.on('pageerror', (e) => rec.errors.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') rec.errors.push('console: ' + m.text()); });
  return rec;
}

const isTile = (u) => /\/tiles\/[^/]+\/\d+\/\d+\/\d+(@2x)?\.png(\?|$)/.test(u);

/* Wait until no visible tile layer is loading and the network is quiet. */
async function settle(page) {
  await page.waitForFunction(() => {
    const t = window.tgis;
    return t && t.map && Object.values(t.state.layers)
      .filter((l) => t.map.hasLayer(l)).every((l) => !l.isLoading());
  }, { timeout: TIMEOUT, polling: 100 });
  await page.waitForNetworkIdle({ idleTime: 300, timeout: TIMEOUT });
}

async function view(page) {
  return page.evaluate(() => {
    const m = window.tgis.map, c = m.getCenter();
    return { zoom: m.getZoom(), lat: c.lat, lon: c.lng };
  });
}

/* Pixel statistics of a PNG screenshot, decoded by the browser itself:
 * distinct colours, the share of the commonest one, and how many pixels are
 * within `tol` of any of `colours` in every channel. */
async function pixelStats(browser, png, colours, tol) {
  const page = await browser.newPage();
  try {
    await page.setContent('<canvas id="c"></canvas>');
    return await page.evaluate(async (b64, colours, tol) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = document.getElementById('c');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const counts = new Map();
      let near = 0;
      for (let i = 0; i < d.length; i += 4) {
        const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        counts.set(k, (counts.get(k) || 0) + 1);
        for (const col of colours) {
          if (Math.abs(d[i] - col[0]) <= tol && Math.abs(d[i + 1] - col[1]) <= tol &&
              Math.abs(d[i + 2] - col[2]) <= tol) { near++; break; }
        }
      }
      let top = 0;
      for (const v of counts.values()) top = Math.max(top, v);
      const n = d.length / 4;
      return { pixels: n, distinct: counts.size, topShare: top / n, nearShare: near / n };
    }, png.toString('base64'), colours, tol);
  } finally {
    await page.close();
  }
}

/* Screenshot of the map alone: controls and popups hidden for the shot. */
async function mapShot(page) {
  await page.addStyleTag({ content: '.leaflet-control-container, .leaflet-popup-pane, ' +
    '.leaflet-overlay-pane, #banner { visibility: hidden !important; }', id: 'shot' });
  const png = await page.screenshot({ type: 'png' });
  await page.evaluate(() => {
    for (const s of document.querySelectorAll('style')) {
      if (s.textContent.indexOf('.leaflet-control-container, .leaflet-popup-pane') === 0) s.remove();
    }
  });
  return png;
}

/* The text of the open popup once it holds `expected` (a popup of an
 * earlier click may still be open, or be replaced by a new one loading);
 * whatever it holds after the time-out otherwise, for the message. */
async function popupText(page, expected) {
  await page.waitForFunction((want) => {
    const p = document.querySelector('.leaflet-popup-content');
    return p && !p.querySelector('.tgis-loading') && p.textContent.includes(want);
  }, { timeout: TIMEOUT / 4, polling: 100 }, expected).catch(() => {});
  return page.$eval('.leaflet-popup-content', (e) => e.innerText).catch(() => '(no popup)');
}

async function waitReady(page) {
  try {
    await page.waitForFunction(() => document.body && document.body.dataset.ready === 'true',
      { timeout: TIMEOUT, polling: 100 });
    return true;
  } catch (e) {
    const msg = await page.$eval('#banner-text', (b) => b.textContent).catch(() => '');
    fail('viewer starts', 'not ready after ' + TIMEOUT / 1000 + ' s; banner: ' + (msg || '(none)'));
    return false;
  }
}

/* Tile responses since index `from`: all 200 image/png, and none failed. */
function checkTiles(name, rec, from, failFrom, minCount, filter) {
  const tiles = rec.responses.slice(from).filter((r) => isTile(r.url) && (!filter || filter(r.url)));
  const bad = tiles.filter((r) => r.status !== 200 || !/^image\/png\b/.test(r.type));
  const failures = rec.failures.slice(failFrom).filter((f) => isTile(f.url) && f.reason !== 'net::ERR_ABORTED');
  check(name + ': ' + tiles.length + ' tile responses (>= ' + minCount + ')', tiles.length >= minCount,
    'only ' + tiles.length);
  check(name + ': every tile 200 image/png', bad.length === 0,
    bad.slice(0, 5).map((r) => r.status + ' ' + r.type + ' ' + r.url).join('; '));
  check(name + ': no tile request failed', failures.length === 0,
    failures.slice(0, 5).map((f) => f.reason + ' ' + f.url).join('; '));
  return tiles;
}

async function main() {
  const themes = await (await fetch(fx.url + 'themes.json')).json();
  const overlays = themes.themes.filter((t) => t.overlay);
  const base = themes.themes.find((t) => !t.overlay);
  const roads = roadColours(fx.style);
  check('road colours read from ' + path.basename(fx.style) + ' (' + roads.length + ')', roads.length >= 3,
    JSON.stringify(roads));

  const browser = await puppeteer.launch({
    executablePath: fx.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--force-color-profile=srgb',
      '--hide-scrollbars', '--no-first-run', '--no-default-browser-check'],
    timeout: TIMEOUT
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1024, height: 768, deviceScaleFactor: 1 });
    await page.setCacheEnabled(false);    /* every tile is a real request */
    page.setDefaultTimeout(TIMEOUT);
    const rec = recorder(page);

    /* ---- opens ---- */
    await page.goto(fx.url, { waitUntil: 'load', timeout: TIMEOUT });
    if (!await waitReady(page)) return;
    ok('viewer starts');
    const leaflet = rec.responses.filter((r) => /\/vendor\/leaflet\/leaflet\.(js|css)$/.test(r.url));
    check('Leaflet js and css served from vendor/', leaflet.length === 2 && leaflet.every((r) => r.status === 200),
      JSON.stringify(leaflet));
    const tilejson = rec.responses.filter((r) => /\/tiles\/[^/]+\.json$/.test(r.url));
    check('TileJSON of every theme fetched', tilejson.length === themes.themes.length &&
      tilejson.every((r) => r.status === 200), JSON.stringify(tilejson));
    await settle(page);
    const labels = await page.$$eval('.leaflet-control-layers label', (ls) => ls.map((l) => l.textContent.trim()));
    check('layers control lists every theme', themes.themes.every((t) => labels.includes(t.title || t.name)),
      JSON.stringify(labels));
    /* the viewer writes "roads-primary" as "roads primary" */
    const words = (t) => String(t).replace(/[-_\s]+/g, ' ');
    const legend = words(await page.$eval('.tgis-legend', (e) => e.innerText));
    check('legend shows the base theme', (base.legend || []).every((i) => legend.includes(words(i.label))), legend);
    check('scale bar is metric', await page.$eval('.leaflet-control-scale', (e) => /\b(m|km)\b/.test(e.innerText) &&
      !/\b(ft|mi)\b/.test(e.innerText)), 'no metric scale');
    check('attribution shown', /tgis/.test(await page.$eval('.leaflet-control-attribution', (e) => e.innerText)),
      'no tgis attribution');

    /* ---- zoom in with the + button to parcel level, pan by dragging ---- */
    const start = await view(page);
    for (let z = start.zoom; z < 16; z++) {
      const zoomed = page.evaluate(() => new Promise((r) => window.tgis.map.once('zoomend', r)));
      await page.click('.leaflet-control-zoom-in');
      await zoomed;
    }
    await settle(page);
    const z16 = await view(page);
    check('zoomed in to z16 with the + button', z16.zoom === 16, 'zoom ' + z16.zoom);
    const box = await page.$eval('#map', (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; });
    const cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx - 150, cy - 100, { steps: 8 });
    await page.mouse.move(cx - 300, cy - 200, { steps: 8 });
    await new Promise((r) => setTimeout(r, 200));   /* a hand at rest: no inertia */
    await page.mouse.up();
    await settle(page);
    const panned = await view(page);
    /* Where the old centre is now: dragged 300 px left and 200 px up. */
    const was = await page.evaluate((lat, lon) => {
      const p = window.tgis.map.latLngToContainerPoint([lat, lon]), s = window.tgis.map.getSize();
      return [p.x - s.x / 2, p.y - s.y / 2];
    }, z16.lat, z16.lon);
    check('dragging pans the map (' + was.map((v) => v.toFixed(0)).join(', ') + ' px)',
      Math.abs(was[0] + 300) < 15 && Math.abs(was[1] + 200) < 15, JSON.stringify({ z16, panned, was }));
    const wheeled = page.evaluate(() => new Promise((r) => window.tgis.map.once('zoomend', r)));
    await page.mouse.move(cx, cy);
    await page.mouse.wheel({ deltaY: -120 });
    await wheeled;
    await settle(page);
    const z17 = await view(page);
    check('the mouse wheel zooms in (z' + z17.zoom + ')', z17.zoom >= 17, 'zoom ' + z17.zoom);
    check('the URL hash follows the view', await page.evaluate(() => {
      const m = /^#(\d+)\/(-?[\d.]+)\/(-?[\d.]+)\/([\w,]+)$/.exec(location.hash);
      const c = window.tgis.map.getCenter();
      return !!m && +m[1] === window.tgis.map.getZoom() && Math.abs(m[2] - c.lat) < 1e-4 &&
        Math.abs(m[3] - c.lng) < 1e-4;
    }), await page.evaluate(() => location.hash));

    checkTiles('browsing z' + start.zoom + '-z' + z17.zoom, rec, 0, 0, 30);
    const tileErrors = await page.evaluate(() => window.tgis.state.tileErrors.length);
    check('viewer saw no tile error', tileErrors === 0, tileErrors + ' tile errors');
    check('no failure banner', await page.$eval('#banner', (b) => b.hidden), 'banner shown');

    /* ---- the map looks like a map: colours and roads ---- */
    await page.screenshot({ path: path.join(fx.out, 'viewer-z17.png') });
    const stats = await pixelStats(browser, await mapShot(page), roads, 3);
    check('screenshot not blank (' + stats.distinct + ' colours, commonest ' +
      (100 * stats.topShare).toFixed(1) + '%)', stats.distinct >= 40 && stats.topShare < 0.85, JSON.stringify(stats));
    check('screenshot shows roads (' + (100 * stats.nearShare).toFixed(2) + '% road-fill pixels)',
      stats.nearShare >= 0.01, JSON.stringify(stats) + ' road colours ' + JSON.stringify(roads));

    /* ---- a shared link: the hash moves the map; click the parcel there ---- */
    const hash = '#17/' + fx.parcel.lat.toFixed(6) + '/' + fx.parcel.lon.toFixed(6) + '/' + base.name;
    const moveDone = page.evaluate(() => new Promise((r) => window.tgis.map.once('moveend', r)));
    await page.evaluate((h) => { location.hash = h; }, hash);
    await moveDone;
    await settle(page);
    const atParcel = await view(page);
    check('a typed hash moves the map', atParcel.zoom === 17 &&
      metres(atParcel.lon, atParcel.lat, fx.parcel.lon, fx.parcel.lat) < 2, JSON.stringify(atParcel));
    const pt = await page.evaluate((lat, lon) => {
      const p = window.tgis.map.latLngToContainerPoint([lat, lon]);
      const r = document.getElementById('map').getBoundingClientRect();
      return [r.x + p.x, r.y + p.y];
    }, fx.parcel.lat, fx.parcel.lon);
    const infoFrom = rec.responses.length;
    await page.mouse.click(pt[0], pt[1]);
    let text = await popupText(page, fx.parcel.cadastre);
    check('clicking the parcel shows its cadastre number ' + fx.parcel.cadastre, text.includes(fx.parcel.cadastre), text);
    check('the cadastre number is the heading', await page.$eval('.leaflet-popup-content',
      (e, c) => { const h = e.querySelector('.tgis-cadastre'); return !!h && h.textContent === c; }, fx.parcel.cadastre),
      'no .tgis-cadastre heading');
    check('the popup shows no PINFL', !/pinfl/i.test(text) && !/\b\d{14}\b/.test(text), text);
    const info = rec.responses.slice(infoFrom).filter((r) => /\/info\?/.test(r.url));
    check('/info answered 200 JSON', info.length >= 1 && info.every((r) => r.status === 200 &&
      /^application\/json/.test(r.type)), JSON.stringify(info));
    await page.screenshot({ path: path.join(fx.out, 'viewer-parcel.png') });
    await page.keyboard.press('Escape');

    /* ---- every overlay switched on in the layers control ---- */
    const ovFrom = rec.responses.length, ovFail = rec.failures.length;
    for (const t of overlays) {
      const label = await page.evaluateHandle((title) => [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
        .find((l) => l.textContent.trim() === title), t.title || t.name);
      const input = label.asElement() ? await label.asElement().$('input') : null;
      if (!check('overlay ' + t.name + ' in the layers control', !!input, 'no checkbox')) continue;
      await input.click();
    }
    await settle(page);
    for (const t of overlays) {
      if (t.minzoom > 17 || t.maxzoom < 17) continue;
      checkTiles('overlay ' + t.name, rec, ovFrom, ovFail, 1, (u) => u.includes('/tiles/' + t.name + '/'));
    }
    const sections = await page.$$eval('.tgis-legend-theme', (s) => s.map((e) => e.dataset.theme));
    check('legend shows every visible theme', themes.themes.every((t) => !(t.legend || []).length ||
      sections.includes(t.name)), JSON.stringify(sections));
    check('the hash lists the overlays', await page.evaluate((names) =>
      names.every((n) => location.hash.split('/')[3].split(',').includes(n)), overlays.map((t) => t.name)),
    await page.evaluate(() => location.hash));
    await page.screenshot({ path: path.join(fx.out, 'viewer-overlays.png') });

    /* ---- search a facility by name: the map flies there, the popup names it ---- */
    const before = await view(page);
    const away = metres(before.lon, before.lat, fx.facility.lon, fx.facility.lat);
    await page.click('.tgis-search input');
    await page.type('.tgis-search input', fx.facility.name, { delay: 20 });
    await page.waitForFunction((name) => [...document.querySelectorAll('.tgis-result')]
      .some((li) => li.textContent.includes(name)), { timeout: TIMEOUT, polling: 100 }, fx.facility.name)
      .then(() => ok('search lists ' + fx.facility.name), (e) => fail('search lists ' + fx.facility.name,
        e.message));
    /* click the result with exactly that name ("School No. 1" also finds No. 10) */
    const flown = page.evaluate(() => new Promise((r) => window.tgis.map.once('moveend', r)));
    const item = await page.evaluateHandle((name) => [...document.querySelectorAll('.tgis-result')]
      .find((li) => li.querySelector('.tgis-result-label').textContent === name), fx.facility.name);
    if (item.asElement()) await item.asElement().click();
    else await page.keyboard.press('Enter');
    await flown;
    const there = await view(page);     /* before the popup may pan the map */
    text = await popupText(page, fx.facility.name);
    const off = metres(there.lon, there.lat, fx.facility.lon, fx.facility.lat);
    check('search moves the map to the facility (' + away.toFixed(0) + ' m away before, ' + off.toFixed(1) +
      ' m after, z' + there.zoom + ')', away > 100 && off < 20 && there.zoom >= 16, JSON.stringify({ before, there }));
    check('the popup names the facility', text.includes(fx.facility.name), text);
    await settle(page);
    await page.screenshot({ path: path.join(fx.out, 'viewer-search.png') });

    /* ---- search a cadastre number ---- */
    await page.click('.tgis-search input', { clickCount: 3 });
    await page.keyboard.press('Backspace');
    const flown2 = page.evaluate(() => new Promise((r) => window.tgis.map.once('moveend', r)));
    await page.type('.tgis-search input', fx.parcel.cadastre, { delay: 10 });
    await page.keyboard.press('Enter');
    await flown2;
    const atP = await view(page);
    text = await popupText(page, fx.parcel.cadastre);
    check('cadastre search moves the map to the parcel', metres(atP.lon, atP.lat, fx.parcel.lon, fx.parcel.lat) < 300 &&
      atP.zoom >= 16, JSON.stringify(atP));
    check('cadastre search shows the parcel', text.includes(fx.parcel.cadastre), text);
    await settle(page);

    checkTiles('whole session', rec, 0, 0, 30);
    const httpErrors = rec.responses.filter((r) => r.status >= 400);
    check('no request answered 4xx/5xx', httpErrors.length === 0,
      httpErrors.slice(0, 5).map((r) => r.status + ' ' + r.url).join('; '));
    check('no script error', rec.errors.length === 0, rec.errors.slice(0, 5).join('; '));

    /* ---- the shared link opens the same view in another window ---- */
    const link = page.url();
    const page2 = await browser.newPage();
    await page2.setViewport({ width: 1024, height: 768, deviceScaleFactor: 2 });
    await page2.setCacheEnabled(false);
    const rec2 = recorder(page2);
    await page2.goto(link, { waitUntil: 'load', timeout: TIMEOUT });
    if (await waitReady(page2)) {
      await settle(page2);
      const v1 = await view(page), v2 = await view(page2);
      check('a shared link opens the same view', v1.zoom === v2.zoom && metres(v1.lon, v1.lat, v2.lon, v2.lat) < 3,
        JSON.stringify({ v1, v2 }));
      const vis = await page2.evaluate(() => Object.keys(window.tgis.state.visible).sort().join());
      check('a shared link shows the same themes', vis === themes.themes.map((t) => t.name).sort().join(), vis);
      /* HiDPI: the same page on a 2x screen asks for the @2x tiles */
      const hi = checkTiles('HiDPI screen', rec2, 0, 0, 6);
      check('HiDPI screen asks for @2x tiles only', hi.length > 0 && hi.every((r) => /@2x\.png/.test(r.url)),
        hi.slice(0, 3).map((r) => r.url).join('; '));
      const widths = await page2.$$eval('img.leaflet-tile-loaded', (imgs) => [...new Set(imgs.map((i) => i.naturalWidth))]);
      check('@2x tiles are 512 px', widths.length === 1 && widths[0] === 512, JSON.stringify(widths));
      await page2.screenshot({ path: path.join(fx.out, 'viewer-hidpi.png') });
    }
    await page2.close();

    /* ---- a failing tile is reported on the page ---- */
    const page3 = await browser.newPage();
    await page3.setViewport({ width: 800, height: 600 });
    await page3.setCacheEnabled(false);
    await page3.setRequestInterception(true);
    page3.on('request', (r) => {
      if (isTile(r.url()) && /\/tiles\/[^/]+\/17\/\d+\/\d*[02468]\.png/.test(r.url())) {
        r.respond({ status: 503, contentType: 'application/json', body: '{"error":"test: tile store unavailable"}' });
      } else {
        r.continue();
      }
    });
    await page3.goto(fx.url + hash, { waitUntil: 'load', timeout: TIMEOUT });
    if (await waitReady(page3)) {
      await page3.waitForFunction(() => !document.getElementById('banner').hidden &&
        /tile store unavailable/.test(document.getElementById('banner').textContent), { timeout: TIMEOUT, polling: 100 })
        .then(() => ok('a failing tile shows a message with the server\'s reason'),
          async () => fail('a failing tile shows a message with the server\'s reason',
            await page3.$eval('#banner', (b) => (b.hidden ? '(hidden) ' : '') + b.textContent)));
      await page3.screenshot({ path: path.join(fx.out, 'viewer-tile-error.png') });
    }
    await page3.close();
  } finally {
    await browser.close();
  }
}

main().then(() => {
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exit(failed ? 1 : 0);
}, (e) => {
  console.log('FAIL viewer check: ' + (e && e.stack || e));
  console.log(passed + ' passed, ' + (failed + 1) + ' failed');
  process.exit(2);
});
