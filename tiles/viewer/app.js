/* app.js -- the tgis web map viewer (docs/viewer.md).
 *
 * Plain JavaScript over Leaflet, no build step, no framework. Everything the
 * page knows comes from `tgis serve`: the themes and their legends from
 * themes.json, each theme's TileJSON, the PNG tiles, feature info from /info
 * and search results from /search. All URLs are relative to the page, so the
 * viewer also works when a reverse proxy mounts the server under a prefix.
 *
 * window.tgis exposes the map and the viewer's state for the browser console
 * and for tests/viewer_check.js; nothing else depends on it.
 */
(function () {
  'use strict';

  var NUMBER = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });
  var SEARCH_DELAY_MS = 200;

  var state = {
    map: null,
    themes: [],          /* themes.json "themes", in its order */
    layers: {},          /* theme name -> L.TileLayer */
    visible: {},         /* theme name -> true while on the map */
    tileErrors: [],      /* {theme, url, reason} of every failed tile */
    infoAbort: null,     /* AbortController of the running /info request */
    highlight: null      /* circle marker of the last search result */
  };
  var ready = {};
  ready.promise = new Promise(function (resolve, reject) {
    ready.resolve = resolve;
    ready.reject = reject;
  });
  window.tgis = { state: state, ready: ready.promise, map: null };

  /* ---- small helpers ---------------------------------------------------- */

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* A colour from the server, or null when it is not a plain hex colour
   * (the page never puts server text into markup or styles unchecked). */
  function colour(c) {
    return typeof c === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(c) ? c : null;
  }

  /* fetch() a JSON document; rejects with the server's {"error": ...}
   * message, or the HTTP status, when the answer is not 2xx. */
  function getJSON(url, signal) {
    return fetch(url, { signal: signal, headers: { Accept: 'application/json' } })
      .then(function (r) {
        return r.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (!r.ok) {
            var msg = body && body.error ? body.error : r.status + ' ' + r.statusText;
            throw new Error(msg);
          }
          if (body === null) throw new Error(url.split('?')[0] + ': not JSON');
          return body;
        });
      });
  }

  function query(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
    }).join('&');
  }

  function themeByName(name) {
    for (var i = 0; i < state.themes.length; i++)
      if (state.themes[i].name === name) return state.themes[i];
    return null;
  }

  function themeTitle(t) {
    return t.title || t.name;
  }

  /* ---- message banner ---------------------------------------------------- */

  var banner = {
    show: function (text, kind) {
      var b = document.getElementById('banner');
      document.getElementById('banner-text').textContent = text;
      b.className = 'banner banner-' + (kind || 'error');
      b.hidden = false;
    },
    hide: function () {
      document.getElementById('banner').hidden = true;
    }
  };
  document.getElementById('banner-close').addEventListener('click', function () {
    banner.hide();
    state.tileErrorsShown = state.tileErrors.length;
  });

  /* A tile failed: say so, with the server's reason when it gives one. The
   * <img> does not tell the status, so the URL is fetched once more (at most
   * one such request at a time) to read the JSON error of a 4xx/5xx. */
  var diagnosing = false;
  function tileFailed(theme, url) {
    var entry = { theme: theme.name, url: url, reason: '' };
    state.tileErrors.push(entry);
    report();
    if (diagnosing || !url) return;
    diagnosing = true;
    fetch(url, { cache: 'no-store' }).then(function (r) {
      if (r.ok) return 'the server answered on a second try; the network may be unreliable';
      return r.text().then(function (t) {
        try { return JSON.parse(t).error || r.status + ' ' + r.statusText; } catch (e) {
          return r.status + ' ' + r.statusText;
        }
      });
    }, function () {
      return 'the server cannot be reached';
    }).then(function (reason) {
      entry.reason = reason;
      diagnosing = false;
      report();
    });

    function report() {
      var n = state.tileErrors.length;
      var byTheme = {};
      state.tileErrors.forEach(function (e) { byTheme[e.theme] = (byTheme[e.theme] || 0) + 1; });
      var parts = Object.keys(byTheme).map(function (name) {
        var t = themeByName(name);
        return byTheme[name] + ' of ' + (t ? themeTitle(t) : name);
      });
      var last = state.tileErrors[n - 1];
      var where = last.url.replace(/^.*\/tiles\//, '');
      var reason = '';
      for (var i = n - 1; i >= 0 && !reason; i--) reason = state.tileErrors[i].reason;
      banner.show((n === 1 ? 'A map tile' : n + ' map tiles') + ' failed to load (' +
        parts.join(', ') + '; last: ' + where + ')' + (reason ? ': ' + reason : '') +
        '. The map may be incomplete here.', 'error');
    }
  }

  /* ---- URL hash: #zoom/lat/lon[/theme,theme,...] --------------------------- */

  function parseHash() {
    var m = /^#(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)(?:\/([\w,.-]*))?$/
      .exec(window.location.hash);
    if (!m) return null;
    var z = parseInt(m[1], 10), lat = parseFloat(m[2]), lon = parseFloat(m[3]);
    if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) return null;
    return { zoom: z, center: L.latLng(lat, lon), themes: m[4] ? m[4].split(',') : null };
  }

  function formatHash() {
    var map = state.map, c = map.getCenter(), z = map.getZoom();
    var digits = Math.max(0, Math.ceil(Math.log(Math.max(z, 1)) / Math.LN2));
    var names = state.themes.filter(function (t) { return state.visible[t.name]; })
      .map(function (t) { return t.name; });
    return '#' + z + '/' + c.lat.toFixed(digits) + '/' + c.lng.toFixed(digits) + '/' + names.join(',');
  }

  var hashWritten = '';
  function writeHash() {
    var h = formatHash();
    if (h === window.location.hash) return;
    hashWritten = h;
    window.history.replaceState(null, '', h);
  }

  /* The user edited the address bar or went back: follow it. */
  function followHash() {
    if (window.location.hash === hashWritten) return;
    var h = parseHash();
    if (!h) return;
    if (h.themes) showThemes(h.themes);
    state.map.setView(h.center, h.zoom);
  }

  /* ---- layers ------------------------------------------------------------- */

  function tileLayer(theme, tilejson, zIndex) {
    var b = Array.isArray(tilejson.bounds) && tilejson.bounds.length === 4 ? tilejson.bounds : null;
    var attribution = tilejson.attribution || null;
    var layer = L.tileLayer('tiles/' + encodeURIComponent(theme.name) + '/{z}/{x}/{y}{r}.png', {
      minZoom: num(theme.minzoom, tilejson.minzoom, 0),
      maxNativeZoom: num(theme.maxzoom, tilejson.maxzoom, 19),
      maxZoom: 22,
      detectRetina: false,       /* {r} asks for the server's @2x tiles */
      tileSize: 256,
      bounds: b ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : undefined,
      attribution: attribution || undefined,
      zIndex: zIndex,
      className: 'tgis-theme-' + theme.name
    });
    layer.on('tileerror', function (e) {
      tileFailed(theme, e.tile && e.tile.src);
    });
    layer.on('add', function () { state.visible[theme.name] = true; });
    layer.on('remove', function () { delete state.visible[theme.name]; });
    return layer;
  }

  function num() {
    for (var i = 0; i < arguments.length; i++)
      if (typeof arguments[i] === 'number' && isFinite(arguments[i])) return arguments[i];
    return undefined;
  }

  /* Overlays that only fill areas (coverage) go under those with lines and
   * symbols (utilities, facilities), whatever the order of themes.json. */
  function overlayZ(theme, index) {
    var legend = theme.legend || [];
    var onlyFills = legend.length > 0 && legend.every(function (i) { return i.kind === 'fill'; });
    return (onlyFills ? 10 : 30) + index;
  }

  /* Put exactly these themes on the map: the first base theme named (or the
   * current one) and the overlays named. */
  function showThemes(names) {
    var map = state.map, base = null;
    names.forEach(function (n) {
      var t = themeByName(n);
      if (t && !t.overlay && !base) base = t;
    });
    state.themes.forEach(function (t) {
      var want = t.overlay ? names.indexOf(t.name) >= 0 : (base ? t === base : state.visible[t.name]);
      var layer = state.layers[t.name];
      if (want && !map.hasLayer(layer)) map.addLayer(layer);
      if (!want && map.hasLayer(layer)) map.removeLayer(layer);
    });
  }

  /* ---- legend ------------------------------------------------------------ */

  var SVG = 'http://www.w3.org/2000/svg';

  function swatch(item) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', '20');
    svg.setAttribute('height', '14');
    svg.setAttribute('viewBox', '0 0 20 14');
    svg.setAttribute('aria-hidden', 'true');
    var fill = colour(item.fill), stroke = colour(item.stroke), shape;
    if (item.kind === 'line') {
      /* a grey casing under the line, so that white roads show on white */
      ['rgba(0,0,0,0.35)', stroke || fill || '#000'].forEach(function (c, i) {
        shape = document.createElementNS(SVG, 'line');
        shape.setAttribute('x1', '2'); shape.setAttribute('y1', '7');
        shape.setAttribute('x2', '18'); shape.setAttribute('y2', '7');
        shape.setAttribute('stroke', c);
        shape.setAttribute('stroke-width', i ? '3' : '5');
        shape.setAttribute('stroke-linecap', 'round');
        if (!i) svg.appendChild(shape);
      });
    } else if (item.kind === 'point') {
      shape = document.createElementNS(SVG, 'circle');
      shape.setAttribute('cx', '10'); shape.setAttribute('cy', '7'); shape.setAttribute('r', '5');
      shape.setAttribute('fill', fill || 'none');
      shape.setAttribute('stroke', stroke || 'rgba(0,0,0,0.35)');
      shape.setAttribute('stroke-width', '1');
    } else {
      shape = document.createElementNS(SVG, 'rect');
      shape.setAttribute('x', '1.5'); shape.setAttribute('y', '1.5');
      shape.setAttribute('width', '17'); shape.setAttribute('height', '11');
      shape.setAttribute('fill', fill || 'none');
      shape.setAttribute('stroke', stroke || 'rgba(0,0,0,0.25)');
      shape.setAttribute('stroke-width', '1');
    }
    svg.appendChild(shape);
    return svg;
  }

  /* Style layer ids make poor labels: "roads-primary" reads "roads primary",
   * "travel_min 0-5" reads "travel min 0-5". */
  function legendLabel(label) {
    return String(label === undefined || label === null ? '' : label)
      .replace(/_/g, ' ').replace(/([A-Za-z])-(?=[A-Za-z])/g, '$1 ');
  }

  var LegendControl = L.Control.extend({
    options: { position: 'bottomright' },
    onAdd: function () {
      var div = el('div', 'leaflet-control tgis-legend');
      var head = el('button', 'tgis-legend-toggle', 'Legend');
      head.type = 'button';
      head.setAttribute('aria-expanded', 'true');
      this._body = el('div', 'tgis-legend-body');
      head.addEventListener('click', function () {
        var open = div.classList.toggle('collapsed') === false;
        head.setAttribute('aria-expanded', open ? 'true' : 'false');
      });
      div.appendChild(head);
      div.appendChild(this._body);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    },
    update: function () {
      var body = this._body;
      body.textContent = '';
      state.themes.forEach(function (t) {
        if (!state.visible[t.name] || !t.legend || !t.legend.length) return;
        var section = el('section', 'tgis-legend-theme');
        section.dataset.theme = t.name;
        section.appendChild(el('h4', null, themeTitle(t)));
        var list = el('ul'), seen = {};
        t.legend.forEach(function (item) {
          var label = legendLabel(item.label);
          var key = [label, item.kind, item.fill, item.stroke].join('|');
          if (seen[key]) return;             /* the same entry from two style layers */
          seen[key] = true;
          var li = el('li');
          li.appendChild(swatch(item));
          li.appendChild(el('span', null, label));
          list.appendChild(li);
        });
        section.appendChild(list);
        body.appendChild(section);
      });
      if (!body.firstChild) body.appendChild(el('p', 'tgis-legend-empty', 'No theme shown'));
    }
  });

  /* ---- feature info -------------------------------------------------------- */

  var LAYER_TITLES = { parcels: 'Parcel', roads: 'Road', facilities: 'Facility',
    utility_lines: 'Utility line', utility_nodes: 'Utility node', districts: 'District' };
  var FIELD_TITLES = {
    cadastre: 'Cadastre no.', land_use: 'Land use', residents: 'Residents', district: 'District',
    area_m2: 'Area', address_code: 'Address code', class: 'Class', name: 'Name', kind: 'Kind',
    capacity: 'Capacity', lanes: 'Lanes', maxspeed: 'Speed limit', oneway: 'One way',
    network: 'Network', diameter_mm: 'Diameter', voltage_kv: 'Voltage', travel_min: 'Travel time',
    ext_id: 'External id', owner_tin: 'Owner TIN', soato: 'SOATO', name_ru: 'Name (Russian)',
    from_node: 'From node', to_node: 'To node', level: 'Level'
  };
  var UNITS = { area_m2: ' m²', diameter_mm: ' mm', maxspeed: ' km/h', travel_min: ' min', voltage_kv: ' kV' };

  function fieldTitle(k) {
    if (FIELD_TITLES[k]) return FIELD_TITLES[k];
    var s = String(k).replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function fieldValue(k, v) {
    if (v === null || v === undefined || v === '') return null;
    if (typeof v === 'number') {
      var s = NUMBER.format(v) + (UNITS[k] || '');
      if (k === 'area_m2' && v >= 10000) s += ' (' + NUMBER.format(v / 10000) + ' ha)';
      return s;
    }
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v).replace(/_/g, ' ');
  }

  /* The heading of a feature: a parcel's cadastre number, a named thing's
   * name, otherwise its layer and id. */
  function featureHeading(f) {
    var p = f.properties || {};
    if (f.layer === 'parcels' && p.cadastre) return { text: p.cadastre, cls: 'tgis-cadastre' };
    if (p.name) return { text: p.name, cls: 'tgis-name' };
    return { text: (LAYER_TITLES[f.layer] || f.layer) + ' ' + f.id, cls: 'tgis-name' };
  }

  /* names: SOATO code -> district name, from the districts found at the
   * same point, so that a parcel's district reads "Uchtepa (1726262)". */
  function renderFeature(f, names) {
    var p = f.properties || {};
    var box = el('section', 'tgis-feature');
    box.dataset.layer = f.layer;
    box.dataset.id = f.id;
    var kind = LAYER_TITLES[f.layer] || fieldTitle(f.layer);
    if (f.layer === 'parcels' && p.land_use) kind += ' · ' + fieldValue('land_use', p.land_use);
    else if (p.kind) kind += ' · ' + fieldValue('kind', p.kind);
    else if (p.class) kind += ' · ' + fieldValue('class', p.class);
    box.appendChild(el('div', 'tgis-kind', kind));
    var h = featureHeading(f);
    box.appendChild(el('div', h.cls, h.text));
    var table = el('table');
    Object.keys(p).forEach(function (k) {
      if (/pinfl/i.test(k)) return;                /* never, whatever a server sends */
      if (f.layer === 'parcels' && (k === 'cadastre' || k === 'land_use')) return;
      if ((k === 'kind' && p.kind) || (k === 'class' && !p.kind && p.class)) return;  /* in the kind line */
      if (k === 'name' && h.text === p.name) return;
      var v = fieldValue(k, p[k]);
      if (v === null) return;
      if (k === 'district' && names && names[p[k]]) v = names[p[k]] + ' (' + v + ')';
      var tr = el('tr');
      tr.appendChild(el('th', null, fieldTitle(k)));
      tr.appendChild(el('td', null, v));
      table.appendChild(tr);
    });
    if (table.firstChild) box.appendChild(table);
    return box;
  }

  var LAYER_ORDER = ['parcels', 'facilities', 'utility_nodes', 'utility_lines', 'roads', 'districts'];

  function renderInfo(features, prefer) {
    var div = el('div', 'tgis-info');
    features = features.slice().sort(function (a, b) {
      if (prefer) {
        var pa = a.layer === prefer.layer && a.id === prefer.id;
        var pb = b.layer === prefer.layer && b.id === prefer.id;
        if (pa !== pb) return pa ? -1 : 1;
      }
      var ia = LAYER_ORDER.indexOf(a.layer), ib = LAYER_ORDER.indexOf(b.layer);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
    if (prefer && !features.some(function (f) { return f.layer === prefer.layer && f.id === prefer.id; }))
      div.appendChild(el('div', 'tgis-name tgis-result-label', prefer.label));
    if (!features.length && !prefer)
      div.appendChild(el('p', 'tgis-empty', 'Nothing mapped here.'));
    var names = {};
    features.forEach(function (f) {
      var p = f.properties || {};
      if (f.layer === 'districts' && p.soato && p.name) names[p.soato] = p.name;
    });
    features.forEach(function (f) { div.appendChild(renderFeature(f, names)); });
    return div;
  }

  /* Ask the server what is at latlng and show it in a popup there. */
  function inspect(latlng, prefer) {
    var map = state.map;
    if (state.infoAbort) state.infoAbort.abort();
    var abort = state.infoAbort = new AbortController();
    var popup = L.popup({ maxWidth: 340, minWidth: 200, autoPanPadding: [24, 24], className: 'tgis-popup' })
      .setLatLng(latlng)
      .setContent(el('div', 'tgis-loading', 'Looking up…'))
      .openOn(map);
    var url = 'info?' + query({ lon: latlng.lng.toFixed(7), lat: latlng.lat.toFixed(7), z: map.getZoom() });
    return getJSON(url, abort.signal).then(function (data) {
      popup.setContent(renderInfo(Array.isArray(data.features) ? data.features : [], prefer));
    }, function (err) {
      if (err.name === 'AbortError') return;
      var box = el('div', 'tgis-info');
      if (prefer) box.appendChild(el('div', 'tgis-name', prefer.label));
      box.appendChild(el('p', 'tgis-error', 'Feature info failed: ' + err.message));
      popup.setContent(box);
    }).then(function () {
      if (state.infoAbort === abort) state.infoAbort = null;
    });
  }

  /* ---- search --------------------------------------------------------------- */

  var SearchControl = L.Control.extend({
    options: { position: 'topleft' },
    onAdd: function () {
      var self = this;
      var form = el('form', 'leaflet-control tgis-search');
      form.setAttribute('role', 'search');
      var input = this._input = el('input');
      input.type = 'search';
      input.name = 'q';
      input.placeholder = 'Cadastre no. or facility name';
      input.setAttribute('aria-label', 'Search a cadastre number or a facility name');
      input.autocomplete = 'off';
      input.spellcheck = false;
      var list = this._list = el('ul', 'tgis-search-results');
      list.setAttribute('role', 'listbox');
      list.hidden = true;
      form.appendChild(input);
      form.appendChild(list);
      this._results = [];
      this._active = -1;
      this._timer = null;
      this._abort = null;
      this._shownFor = null;

      input.addEventListener('input', function () {
        clearTimeout(self._timer);
        self._timer = setTimeout(function () { self._search(input.value); }, SEARCH_DELAY_MS);
      });
      input.addEventListener('keydown', function (e) {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          if (!self._results.length) return;
          var n = self._results.length, a = self._active;
          self._setActive(e.key === 'ArrowDown' ? (a + 1) % n : (a <= 0 ? n - 1 : a - 1));
        } else if (e.key === 'Escape') {
          self._close();
        }
      });
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        clearTimeout(self._timer);
        var q = input.value.trim();
        if (self._shownFor === q && self._results.length) {
          self._choose(self._results[Math.max(self._active, 0)]);
        } else if (q) {
          self._search(q).then(function () {
            if (self._results.length) self._choose(self._results[0]);
          });
        }
      });
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.disableScrollPropagation(form);
      return form;
    },

    _search: function (text) {
      var self = this, q = text.trim();
      if (this._abort) this._abort.abort();
      if (q.length < 2) { this._close(); return Promise.resolve(); }
      var abort = this._abort = new AbortController();
      return getJSON('search?' + query({ q: q, limit: 10 }), abort.signal).then(function (data) {
        self._show(q, Array.isArray(data.results) ? data.results : []);
      }, function (err) {
        if (err.name === 'AbortError') return;
        self._show(q, [], 'Search failed: ' + err.message);
      });
    },

    _show: function (q, results, error) {
      var self = this, list = this._list;
      this._results = results;
      this._active = -1;
      this._shownFor = q;
      list.textContent = '';
      results.forEach(function (r, i) {
        var li = el('li', 'tgis-result');
        li.setAttribute('role', 'option');
        li.dataset.index = i;
        li.appendChild(el('span', 'tgis-result-label', r.label));
        li.appendChild(el('span', 'tgis-result-layer', r.layer === 'parcels' ? 'parcel' :
          r.layer === 'facilities' ? 'facility' : r.layer));
        li.addEventListener('mousedown', function (e) { e.preventDefault(); });
        li.addEventListener('click', function () { self._choose(r); });
        list.appendChild(li);
      });
      if (!results.length)
        list.appendChild(el('li', error ? 'tgis-search-error' : 'tgis-search-none',
          error || 'Nothing found for “' + q + '”'));
      list.hidden = false;
    },

    _setActive: function (i) {
      var items = this._list.querySelectorAll('.tgis-result');
      if (this._active >= 0 && items[this._active]) {
        items[this._active].classList.remove('active');
        items[this._active].removeAttribute('aria-selected');
      }
      this._active = i;
      if (items[i]) {
        items[i].classList.add('active');
        items[i].setAttribute('aria-selected', 'true');
      }
    },

    _close: function () {
      this._list.hidden = true;
      this._results = [];
      this._active = -1;
      this._shownFor = null;
    },

    _choose: function (r) {
      var map = state.map;
      this._input.value = r.label;
      this._close();
      this._input.blur();
      if (typeof r.lat !== 'number' || typeof r.lon !== 'number') return;
      var at = L.latLng(r.lat, r.lon);
      if (state.highlight) map.removeLayer(state.highlight);
      state.highlight = L.circleMarker(at, {
        radius: 14, color: '#d6336c', weight: 3, fill: false, interactive: false
      }).addTo(map);
      var done = function () { inspect(at, r); };
      var b = r.bbox;
      var target;
      if (Array.isArray(b) && b.length === 4 && (b[2] > b[0] || b[3] > b[1])) {
        var bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
        var z = Math.min(map.getBoundsZoom(bounds, false, L.point(80, 80)), 18);
        target = { center: bounds.getCenter(), zoom: Math.max(z, 16) };
      } else {
        target = { center: at, zoom: Math.max(map.getZoom(), 17) };
      }
      target.zoom = Math.min(target.zoom, map.getMaxZoom());
      if (map.getZoom() === target.zoom && map.getCenter().distanceTo(target.center) < 1) {
        done();
      } else {
        map.once('moveend', done);
        map.flyTo(target.center, target.zoom, { duration: 1.0 });
      }
    }
  });

  /* ---- cursor position ---------------------------------------------------- */

  var PositionControl = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd: function (map) {
      var div = el('div', 'leaflet-control tgis-position');
      function show(ll) {
        div.textContent = ll.lat.toFixed(5) + ', ' + ll.lng.toFixed(5);
      }
      map.on('mousemove', function (e) { show(e.latlng); });
      map.on('moveend', function () { show(map.getCenter()); });
      show(map.getCenter());
      return div;
    }
  });

  /* ---- start -------------------------------------------------------------- */

  function start(config) {
    var themes = Array.isArray(config.themes) ? config.themes : [];
    if (!themes.length) throw new Error('the server lists no map themes');
    state.themes = themes;

    var minZoom = Math.min.apply(null, themes.map(function (t) { return num(t.minzoom, 0); }));
    var maxZoom = Math.max.apply(null, themes.map(function (t) { return num(t.maxzoom, 19); }));
    var b = config.bounds;
    var bounds = Array.isArray(b) && b.length === 4 ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : null;

    var map = state.map = window.tgis.map = L.map('map', {
      zoomControl: false,
      minZoom: minZoom,
      maxZoom: maxZoom,
      maxBounds: bounds ? bounds.pad(0.5) : undefined,
      maxBoundsViscosity: 0.8
    });

    /* Each theme's TileJSON gives its zoom range, extent and attribution;
     * a missing one is reported, and the theme uses themes.json alone. */
    return Promise.all(themes.map(function (t) {
      /* relative, whatever URL themes.json gives: the page may be proxied */
      return getJSON('tiles/' + encodeURIComponent(t.name) + '.json').catch(function (err) {
        banner.show('TileJSON of ' + themeTitle(t) + ' failed: ' + err.message, 'error');
        return {};
      });
    })).then(function (tilejsons) {
      if (!tilejsons.some(function (j) { return typeof j.attribution === 'string' && j.attribution; }))
        map.attributionControl.addAttribution('tgis · Tashkent city GIS');
      var baseLayers = {}, overlays = {};
      themes.forEach(function (t, i) {
        var layer = tileLayer(t, tilejsons[i], t.overlay ? overlayZ(t, i) : 1);
        state.layers[t.name] = layer;
        (t.overlay ? overlays : baseLayers)[themeTitle(t)] = layer;
      });

      var search = new SearchControl();
      search.addTo(map);
      L.control.zoom({ position: 'topleft' }).addTo(map);
      L.control.layers(baseLayers, overlays, { position: 'topright', collapsed: false }).addTo(map);
      L.control.scale({ metric: true, imperial: false, maxWidth: 160, position: 'bottomleft' }).addTo(map);
      var legend = new LegendControl();
      legend.addTo(map);

      var h = parseHash();
      var firstBase = themes.filter(function (t) { return !t.overlay; })[0] || themes[0];
      showThemes(h && h.themes ? h.themes : [firstBase.name]);
      if (!themes.some(function (t) { return !t.overlay && state.visible[t.name]; }))
        map.addLayer(state.layers[firstBase.name]);
      if (h) {
        map.setView(h.center, h.zoom);
      } else if (Array.isArray(config.center) && config.center.length >= 2) {
        map.setView([config.center[1], config.center[0]], num(config.zoom, 12));
      } else if (bounds) {
        map.fitBounds(bounds);
      } else {
        map.setView([41.3111, 69.2797], 12);
      }
      new PositionControl().addTo(map);
      legend.update();

      map.on('overlayadd overlayremove baselayerchange', function () {
        legend.update();
        writeHash();
      });
      map.on('moveend', writeHash);
      map.on('click', function (e) { inspect(e.latlng); });
      window.addEventListener('hashchange', followHash);
      writeHash();
      document.body.dataset.ready = 'true';
      ready.resolve(map);
    });
  }

  getJSON('themes.json').then(start).catch(function (err) {
    banner.show('The map cannot start: the server did not give its themes (' + err.message +
      '). Check that `tgis serve` is running, then reload the page.', 'error');
    ready.reject(err);
  });
})();
