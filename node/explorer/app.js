// The Civitas explorer: a single-page app over the node's /api/ (docs/EXPLORER.md).
//
// Every string from the chain reaches the page as a text node or an attribute value set with
// setAttribute, never as markup: there is no innerHTML here. Links are built only from
// "#/" + encodeURIComponent(...), so chain data cannot choose a link's scheme. The page's
// Content-Security-Policy allows only this origin's script, style and fetches.
'use strict';

(() => {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const view = document.getElementById('view');
  const statusBar = document.getElementById('status');
  let navigation = 0;  // bumped on every route change; a render for an older one is dropped
  let refreshTimer = null;

  // ---- DOM helpers. -------------------------------------------------------------------------

  function append(parent, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return parent;
  }

  // el('a', {href: '#/x', class: 'hash'}, 'text', child, ...): attributes are set with
  // setAttribute and children become text nodes unless they already are nodes.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      e.setAttribute(k === 'className' ? 'class' : k, v === true ? '' : String(v));
    }
    return append(e, children);
  }

  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return append(e, children);
  }

  const link = (route, text, attrs) => el('a', Object.assign({href: '#/' + route}, attrs), text);
  const enc = encodeURIComponent;

  function short(hex) {
    return typeof hex === 'string' && hex.length > 20 ? hex.slice(0, 10) + '…' + hex.slice(-6)
                                                       : hex;
  }
  function hash(value, route, shorten) {
    if (value === null || value === undefined || value === '') return el('span', {class: 'muted'}, '—');
    const text = shorten ? short(value) : value;
    if (!route) return el('span', {class: 'hash', title: value}, text);
    return link(route, text, {class: 'hash', title: value});
  }
  const blockLink = (h) => (h ? link('block/' + enc(h), String(h), {'data-height': h}) : el('span', {class: 'muted'}, '—'));
  const didLink = (did) => link('did/' + enc(did), did, {class: 'hash', 'data-did': did});

  function amount(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : String(n);
  }
  function time(ms) {
    if (!ms) return '—';
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }
  function badge(word) {
    return el('span', {class: 'badge ' + String(word).replace(/[^a-z_-]/gi, '')}, word);
  }
  function fields(rows) {
    const dl = el('dl', {class: 'fields'});
    for (const [name, value, key] of rows) {
      if (value === undefined) continue;
      dl.appendChild(el('dt', {}, name));
      dl.appendChild(el('dd', key ? {'data-field': key} : {}, value === null ? '—' : value));
    }
    return el('div', {class: 'card'}, dl);
  }
  function table(headers, rows, attrs) {
    const head = el('tr', {}, headers.map((h) => {
      const [text, cls] = Array.isArray(h) ? h : [h, null];
      return el('th', cls ? {class: cls} : {}, text);
    }));
    const body = el('tbody', {}, rows);
    if (rows.length === 0) {
      body.appendChild(el('tr', {}, el('td', {colspan: headers.length, class: 'muted'}, 'none')));
    }
    return el('table', attrs || {}, el('thead', {}, head), body);
  }
  const td = (content, attrs) => el('td', attrs || {}, content);
  const num = (n, key) => el('td', Object.assign({class: 'num'}, key ? {'data-field': key, 'data-value': n} : {}), amount(n));

  // ---- The API. ----------------------------------------------------------------------------

  async function api(path) {
    const res = await fetch('/api/' + path, {headers: {Accept: 'application/json'}, cache: 'no-store'});
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!res.ok) {
      const err = new Error((body && body.message) || 'HTTP ' + res.status);
      err.status = res.status;
      err.reason = body && body.error;
      throw err;
    }
    return body;
  }

  // ---- Pages. Each returns {title, nodes, refresh (ms, 0: static)}. ------------------------

  async function pageBlocks(args, params) {
    const before = params.get('before');
    const data = await api('blocks' + (before ? '?before=' + enc(before) : ''));
    const rows = data.blocks.map((b) => el('tr', {'data-height': b.height},
      td(blockLink(b.height)),
      td(hash(b.id, 'block/' + enc(b.height), true)),
      td(time(b.time_ms)),
      num(b.tx_count),
      td(b.proposer_name ? el('span', {title: b.proposer}, b.proposer_name) : hash(b.proposer, null, true))));
    const pager = el('div', {class: 'pager'},
      before ? link('blocks', '← Latest') : null,
      data.next_before ? link('blocks?before=' + enc(data.next_before), 'Older →') : null);
    return {
      title: 'Blocks',
      nodes: [el('h1', {}, before ? 'Blocks' : 'Latest blocks'),
        table(['Height', 'Block id', 'Time', ['Txs', 'num'], 'Proposer'], rows, {id: 'blocks'}),
        pager],
      refresh: before ? 0 : 3000,
    };
  }

  function txSender(t) {
    if (t.sender_did) return el('span', {}, didLink(t.sender_did));
    return hash(t.sender, null, true);
  }
  function txStatus(t) {
    return [badge(t.status), t.reason ? el('div', {class: 'muted', 'data-field': 'reason'}, t.reason) : null];
  }

  async function pageBlock([arg], params) {
    const q = params.get('tx_start') ? '?tx_start=' + enc(params.get('tx_start')) : '';
    const b = await api('blocks/' + enc(arg) + q);
    const nav = el('div', {class: 'pager'},
      b.height > 1 ? link('block/' + (b.height - 1), '← ' + (b.height - 1)) : null,
      b.height < b.tip ? link('block/' + (b.height + 1), (b.height + 1) + ' →') : null);
    const rows = b.txs.map((t) => el('tr', {'data-tx': t.id},
      num(t.index),
      td(hash(t.id, 'tx/' + t.id), {class: 'tx-id'}),
      td(txSender(t)),
      td(t.action, {'data-field': 'action'}),
      td(txStatus(t)),
      num(t.fee)));
    const more = b.tx_count > b.tx_start + b.txs.length
      ? link('block/' + b.height + '?tx_start=' + (b.tx_start + b.txs.length), 'More transactions →')
      : null;
    return {
      title: 'Block ' + b.height,
      nodes: [el('h1', {}, 'Block ' + b.height), nav,
        fields([
          ['Height', String(b.height), 'height'],
          ['Block id', hash(b.id), 'id'],
          ['Parent', b.height > 1 ? hash(b.parent_id, 'block/' + (b.height - 1)) : hash(b.parent_id)],
          ['Time', time(b.time_ms)],
          ['Proposer', [b.proposer_name ? b.proposer_name + ' ' : '', hash(b.proposer, null, true)]],
          ['Epoch / round', b.epoch + ' / ' + b.round],
          ['Transactions', String(b.tx_count), 'tx_count'],
          ['Transaction root', hash(b.tx_root)],
          ['State root', [hash(b.state_root), el('span', {class: 'muted'}, ' after block ' + b.state_height)]],
          ['Commit signatures', String(b.commit_signers)],
        ]),
        el('h2', {}, 'Transactions'),
        table([['#', 'num'], 'Tx id', 'Sender', 'Action', 'Status', ['Fee', 'num']], rows, {id: 'txs'}),
        el('div', {class: 'pager'}, more)],
      refresh: 0,
    };
  }

  // A value of a transaction's action: links for what the explorer can show, text otherwise.
  function argValue(key, v) {
    if (key === 'proposal_id') return link('proposal/' + enc(v), String(v));
    if (key === 'did' && typeof v === 'string' && v.startsWith('did:')) return didLink(v);
    if (typeof v === 'string') return el('span', {class: /^[0-9a-f]+$/.test(v) ? 'hash' : ''}, v);
    return JSON.stringify(v);
  }

  async function pageTx([id]) {
    const t = await api('tx/' + enc(id));
    const args = Object.entries(t.args || {}).map(([k, v]) => el('tr', {}, td(k), td(argValue(k, v))));
    const events = (t.events || []).map((e) => el('tr', {},
      td(e.topic, {'data-field': 'topic'}), td(hash(e.contract, null, true)), td(hash(e.data))));
    return {
      title: 'Transaction ' + short(t.id),
      nodes: [el('h1', {}, 'Transaction'),
        fields([
          ['Tx id', hash(t.id), 'id'],
          ['Block', [blockLink(t.height), el('span', {class: 'muted'}, ' #' + t.index)]],
          ['Time', time(t.time_ms)],
          ['Sender', hash(t.sender)],
          ['Sender DID', t.sender_did ? didLink(t.sender_did) : null],
          ['Public key', hash(t.public_key)],
          ['Nonce', String(t.nonce)],
          ['Action', t.action, 'action'],
          ['Status', txStatus(t)],
          ['Gas used / limit', amount(t.gas_used) + ' / ' + amount(t.gas_limit)],
          ['Fee', amount(t.fee)],
          ['Return data', t.return_data ? hash(t.return_data) : null],
          ['Contract created', t.contract_address ? hash(t.contract_address) : undefined],
        ]),
        el('h2', {}, 'Action: ' + t.action),
        table(['Field', 'Value'], args, {id: 'args'}),
        el('h2', {}, 'Events'),
        table(['Topic', 'Contract', 'Data'], events, {id: 'events'})],
      refresh: 0,
    };
  }

  async function pageDid([did], params) {
    const version = params.get('version');
    const d = await api('did/' + enc(did) + (version ? '?version=' + enc(version) : ''));
    const doc = (d.resolution && d.resolution.didDocument) || {};
    const versions = d.versions.slice().reverse().map((v) => el('tr', {'data-version': v.version},
      td(v.version === d.version ? el('strong', {}, 'v' + v.version + ' (shown)')
                                 : link('did/' + enc(d.did) + '?version=' + v.version, 'v' + v.version)),
      td(blockLink(v.height))));
    const keys = (doc.verificationMethod || []).map((k) => el('tr', {},
      td(k.id, {class: 'hash'}), td(k.type), td(k.publicKeyMultibase, {class: 'hash'})));
    const services = (doc.service || []).map((s) => el('tr', {},
      td(s.id, {class: 'hash'}), td(s.type), td(typeof s.serviceEndpoint === 'string' ? s.serviceEndpoint : JSON.stringify(s.serviceEndpoint))));
    const c = d.citizenship;
    return {
      title: d.did,
      nodes: [el('h1', {'data-did': d.did}, d.did),
        fields([
          ['State', badge(d.deactivated ? 'deactivated' : 'active')],
          ['Version', 'v' + d.version + (d.version !== d.latest_version ? ' of ' + d.latest_version : ' (latest)'), 'version'],
          ['Created at', blockLink(d.created)],
          ['Updated at', blockLink(d.updated)],
          ['Controller address', hash(d.controller_address)],
          ['Citizenship', [badge(c.status), c.in_good_standing ? ' in good standing' : '',
            c.since ? el('span', {class: 'muted'}, ' since ' + c.since + ', expires at ' + c.expiry) : null], 'citizenship'],
        ]),
        el('h2', {}, 'History'),
        table(['Version', 'Changed at block'], versions, {id: 'versions'}),
        el('h2', {}, 'Keys'),
        table(['Id', 'Type', 'Public key'], keys, {id: 'keys'}),
        el('h2', {}, 'Services'),
        table(['Id', 'Type', 'Endpoint'], services, {id: 'services'}),
        el('h2', {}, 'DID document'),
        el('pre', {class: 'json', id: 'did-document'}, JSON.stringify(d.resolution.didDocument, null, 2)),
        el('h2', {}, 'Document metadata'),
        el('pre', {class: 'json'}, JSON.stringify(d.resolution.didDocumentMetadata, null, 2))],
      refresh: 0,
    };
  }

  async function pageCitizens(args, params) {
    const start = params.get('start');
    const data = await api('citizens' + (start ? '?start=' + enc(start) : ''));
    const rows = data.citizens.map((c) => el('tr', {},
      td(didLink(c.did)), td(badge(c.status)), td(blockLink(c.since)), num(c.expiry),
      td(c.in_good_standing ? 'yes' : 'no')));
    return {
      title: 'Citizens',
      nodes: [el('h1', {}, 'Citizens'),
        el('p', {class: 'muted'}, data.total + ' DIDs have been made citizens (at height ' + data.height + ').'),
        table(['DID', 'Status', 'Since block', ['Expires at', 'num'], 'In good standing'], rows, {id: 'citizens'}),
        el('div', {class: 'pager'},
          start ? link('citizens', '← First') : null,
          data.next_start !== null ? link('citizens?start=' + data.next_start, 'Next →') : null)],
      refresh: 10000,
    };
  }

  // Yes / no / abstain as a bar (SVG, so no style attributes are needed).
  function tallyBar(t, quorum) {
    const total = t.yes + t.no + t.abstain;
    const scale = Math.max(total, quorum || 0, 1);
    const w = (n) => (100 * n) / scale;
    const bar = svg('svg', {class: 'tally', viewBox: '0 0 100 6', preserveAspectRatio: 'none', role: 'img',
      'aria-label': 'yes ' + t.yes + ', no ' + t.no + ', abstain ' + t.abstain});
    bar.appendChild(svg('rect', {class: 'empty', x: 0, y: 0, width: 100, height: 6}));
    let x = 0;
    for (const k of ['yes', 'no', 'abstain']) {
      bar.appendChild(svg('rect', {class: k, x: x, y: 0, width: w(t[k]), height: 6}));
      x += w(t[k]);
    }
    return bar;
  }

  function proposalTitle(p) {
    if (p.text) return p.text.length > 80 ? p.text.slice(0, 80) + '…' : p.text;
    return p.kind + ' proposal';
  }
  // Voting periods are block time in seconds (p.start, p.end, p.eta; `now`: the tip's time).
  function votingState(p, now) {
    if (p.voting_open) return 'open, ' + (p.end - now) + ' s left';
    return now >= p.end ? 'closed' : 'not started';
  }
  function secondsTime(s) { return time(s * 1000); }
  function quorumUnit(method) {
    return method === 'citizen' ? 'citizens' : method === 'quadratic' ? 'quadratic votes' : 'tokens';
  }

  async function pageProposals() {
    const data = await api('proposals');
    const g = data.governance;
    const rows = data.proposals.map((p) => el('tr', {'data-proposal': p.id},
      td(link('proposal/' + p.id, '#' + p.id)),
      td(p.kind),
      td(link('proposal/' + p.id, proposalTitle(p))),
      td(badge(p.status)),
      num(p.tally.yes, 'yes'), num(p.tally.no, 'no'), num(p.tally.abstain, 'abstain'),
      td(tallyBar(p.tally, p.quorum)),
      td(p.tally.quorum_reached ? 'reached' : 'not reached', {'data-field': 'quorum'}),
      td([secondsTime(p.end), el('div', {class: 'muted'}, votingState(p, data.time))])));
    return {
      title: 'Proposals',
      nodes: [el('h1', {}, 'Proposals'),
        el('p', {class: 'muted', id: 'governance'},
          Object.entries(g.kinds || {}).map(([k, r]) => k + ': ' + r.method + ', quorum ' +
            amount(r.quorum) + ' ' + quorumUnit(r.method) + ', >' + r.threshold + '%').join(' · ') +
          ' · voting period ' + g.voting_period + ' s · deposit ' + amount(g.deposit) +
          ' · height ' + data.height),
        table(['Id', 'Kind', 'Proposal', 'Status', ['Yes', 'num'], ['No', 'num'], ['Abstain', 'num'],
          'Tally', 'Quorum', 'Ends at'], rows, {id: 'proposals'})],
      refresh: 3000,
    };
  }

  function decisionRows(p) {
    const d = p.decision || {};
    const rows = [];
    for (const [k, v] of Object.entries(d)) {
      const value = typeof v === 'number' ? amount(v) : typeof v === 'boolean' ? (v ? 'yes' : 'no')
                  : v === null ? '—' : hash(v);
      rows.push([k, value]);
    }
    return rows;
  }

  async function pageProposal([id]) {
    const p = await api('proposals/' + enc(id));
    const g = p.governance;
    return {
      title: 'Proposal ' + p.id,
      nodes: [el('h1', {}, 'Proposal #' + p.id + ' · ' + p.kind),
        p.text ? el('p', {class: 'prose card', id: 'proposal-text'}, p.text) : null,
        fields([
          ['Status', badge(p.status), 'status'],
          ['Failed because', p.failure || undefined, 'failure'],
          ['Proposer', p.proposer_did ? didLink(p.proposer_did) : hash(p.proposer)],
          ['Deposit', amount(p.deposit)],
          ['Voting', [secondsTime(p.start), ' to ', secondsTime(p.end), el('span', {class: 'muted'}, ' (' + votingState(p, p.time) + ')')]],
          ['Yes', amount(p.tally.yes), 'yes'],
          ['No', amount(p.tally.no), 'no'],
          ['Abstain', amount(p.tally.abstain), 'abstain'],
          ['Method', p.method, 'method'],
          ['Tally', tallyBar(p.tally, p.quorum)],
          ['Voters', String(p.voters)],
          ['Quorum', (p.tally.quorum_reached ? 'reached' : 'not reached') + ' (' + amount(p.quorum) + ' ' + quorumUnit(p.method) + ', threshold ' + p.threshold + '%)', 'quorum'],
          ['Passing now', p.tally.passing ? 'yes' : 'no', 'passing'],
          ['Executable from', p.eta ? secondsTime(p.eta) : null],
          ['Executed at', p.executed ? blockLink(p.executed) : null],
          ['Sunset', p.sunset ? blockLink(p.sunset) : 'never'],
          ['In force', p.in_force ? 'yes' : 'no'],
        ].concat(decisionRows(p)))],
      refresh: 3000,
    };
  }

  // The treasury's balance by height as a line chart: an inline SVG drawn here.
  function lineChart(points) {
    const W = 760, H = 260, L = 90, R = 16, T = 14, B = 34;
    const chart = svg('svg', {class: 'chart', id: 'treasury-chart', viewBox: '0 0 ' + W + ' ' + H,
      role: 'img', 'aria-label': 'Treasury balance by block height'});
    if (points.length === 0) return chart;
    const xs = points.map((p) => p.height), ys = points.map((p) => p.balance);
    let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 = Math.max(0, y0 - 1); y1 = y1 + 1; }
    const pad = (y1 - y0) * 0.08;
    y0 = Math.max(0, y0 - pad);
    y1 = y1 + pad;
    const sx = (x) => L + ((x - x0) * (W - L - R)) / (x1 - x0);
    const sy = (y) => H - B - ((y - y0) * (H - T - B)) / (y1 - y0);
    for (let i = 0; i <= 4; i++) {
      const v = y0 + ((y1 - y0) * i) / 4;
      chart.appendChild(svg('line', {class: 'grid', x1: L, x2: W - R, y1: sy(v), y2: sy(v)}));
      chart.appendChild(svg('text', {x: L - 6, y: sy(v) + 4, 'text-anchor': 'end'}, amount(Math.round(v))));
    }
    chart.appendChild(svg('line', {class: 'axis', x1: L, x2: L, y1: T, y2: H - B}));
    chart.appendChild(svg('line', {class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B}));
    chart.appendChild(svg('text', {x: L, y: H - B + 18, 'text-anchor': 'start'}, 'height ' + x0));
    chart.appendChild(svg('text', {x: W - R, y: H - B + 18, 'text-anchor': 'end'}, 'height ' + Math.max(...xs)));
    const line = points.map((p) => sx(p.height).toFixed(1) + ',' + sy(p.balance).toFixed(1)).join(' ');
    chart.appendChild(svg('polyline', {class: 'line', points: line}));
    for (const p of points) {
      chart.appendChild(svg('circle', {class: 'point', cx: sx(p.height).toFixed(1), cy: sy(p.balance).toFixed(1), r: 2.5,
        'data-height': p.height, 'data-balance': p.balance},
      svg('title', {}, 'height ' + p.height + ': ' + amount(p.balance))));
    }
    return chart;
  }

  async function pageTreasury() {
    const [t, m] = await Promise.all([api('treasury'), api('treasury/movements')]);
    const moves = m.movements.slice().reverse().slice(0, 200).map((x) => el('tr', {'data-kind': x.kind},
      td(blockLink(x.height)),
      td(x.kind === 'fees' ? 'fees' : x.kind === 'in' ? 'in' : 'out', {class: x.kind === 'out' ? 'out' : 'in'}),
      el('td', {class: 'num ' + (x.kind === 'out' ? 'out' : 'in')}, (x.kind === 'out' ? '−' : '+') + amount(x.amount)),
      td(x.counterparty ? hash(x.counterparty, null, true) : el('span', {class: 'muted'}, 'transaction fees')),
      td(x.tx_id ? hash(x.tx_id, 'tx/' + x.tx_id, true) : '—'),
      td(x.proposal_id ? link('proposal/' + x.proposal_id, '#' + x.proposal_id) : '—')));
    return {
      title: 'Treasury',
      nodes: [el('h1', {}, 'Treasury'),
        el('div', {class: 'row'},
          el('div', {class: 'card'}, el('div', {class: 'muted'}, 'Balance'),
            el('div', {class: 'big', id: 'treasury-balance', 'data-value': t.balance}, amount(t.balance))),
          el('div', {class: 'card'}, el('div', {class: 'muted'}, 'Paid out by decision'),
            el('div', {class: 'big', id: 'treasury-spent', 'data-value': t.spent}, amount(t.spent))),
          el('div', {class: 'card'}, el('div', {class: 'muted'}, 'Address'), hash(t.address))),
        el('h2', {}, 'Balance over time'),
        lineChart(t.history),
        el('h2', {}, 'Movements'),
        el('p', {class: 'muted'}, 'Blocks ' + m.from + ' to ' + m.to + ', newest first.'),
        table(['Block', 'Kind', ['Amount', 'num'], 'Counterparty', 'Transaction', 'Proposal'], moves, {id: 'movements'})],
      refresh: 5000,
    };
  }

  // ---- Routing. ----------------------------------------------------------------------------

  const routes = [
    [/^\/?$/, pageBlocks],
    [/^\/blocks$/, pageBlocks],
    [/^\/block\/([^/]+)$/, pageBlock],
    [/^\/tx\/([^/]+)$/, pageTx],
    [/^\/did\/([^/]+)$/, pageDid],
    [/^\/citizens$/, pageCitizens],
    [/^\/proposals$/, pageProposals],
    [/^\/proposal\/([^/]+)$/, pageProposal],
    [/^\/treasury$/, pageTreasury],
  ];

  function errorBox(e) {
    return el('div', {class: 'error', role: 'alert', 'data-status': e.status || ''},
      el('strong', {}, e.status === 404 ? 'Not found' : e.status === 400 ? 'Bad request' : 'Error'),
      ': ', e.message);
  }

  async function render(token, page, args, params) {
    let refresh = 0;
    try {
      const out = await page(args, params);
      if (token !== navigation) return;
      view.replaceChildren(...out.nodes.filter((n) => n));
      document.title = out.title + ' · Civitas explorer';
      refresh = out.refresh;
    } catch (e) {
      if (token !== navigation) return;
      view.replaceChildren(errorBox(e));
    }
    if (refresh) {
      refreshTimer = setTimeout(() => render(token, page, args, params), refresh);
    }
  }

  function route() {
    const token = ++navigation;
    clearTimeout(refreshTimer);
    const hashText = location.hash.replace(/^#/, '') || '/';
    const q = hashText.indexOf('?');
    const path = q < 0 ? hashText : hashText.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : hashText.slice(q + 1));
    for (const [re, page] of routes) {
      const m = path.match(re);
      if (!m) continue;
      let args;
      try {
        args = m.slice(1).map(decodeURIComponent);
      } catch (e) {
        break;
      }
      render(token, page, args, params);
      return;
    }
    view.replaceChildren(errorBox({status: 404, message: 'no page ' + path}));
  }

  async function updateStatus() {
    try {
      const s = await api('status');
      const b = s.latest_block;
      statusBar.textContent = s.chain_id + ' · height ' + s.height +
        (b ? ' · ' + time(b.time_ms) : '') + ' · ' + s.validators.length + ' validator' +
        (s.validators.length === 1 ? '' : 's');
    } catch (e) {
      statusBar.textContent = 'node unreachable: ' + e.message;
    }
    setTimeout(updateStatus, 3000);
  }

  async function search(text) {
    const q = text.trim();
    if (!q) return;
    if (/^\d+$/.test(q)) {
      location.hash = '#/block/' + q;
    } else if (/^did:/.test(q)) {
      location.hash = '#/did/' + enc(q);
    } else if (/^[0-9a-fA-F]{64}$/.test(q)) {
      try {
        await api('tx/' + q);
        location.hash = '#/tx/' + q.toLowerCase();
      } catch (e) {
        location.hash = '#/block/' + q.toLowerCase();
      }
    } else {
      view.replaceChildren(errorBox({status: 400, message: 'search for a height, a 64-digit id or a did:civitas: DID'}));
    }
  }

  const input = document.getElementById('search');
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') search(input.value);
  });
  document.getElementById('search-go').addEventListener('click', () => search(input.value));
  window.addEventListener('hashchange', route);
  route();
  updateStatus();
})();
