// The console's only assets, embedded as strings: they travel inside the bundle and the single
// executable, and the console works offline (no CDN). The script only refreshes what the server
// already rendered: it refetches the page's <main> and swaps it in.
export const CONSOLE_CSS = `
:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#5d6675;--line:#d9dde4;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--accent:#0b5cad}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:1.2rem;align-items:center;padding:.6rem 1.2rem;background:#1d2330;color:#fff}
header a{color:#cfd6e2;text-decoration:none}header a.active,header a:hover{color:#fff}header .who{margin-left:auto;color:#cfd6e2}
header form{display:inline}header button{background:none;border:1px solid #5d6675;color:#cfd6e2;border-radius:4px;padding:.1rem .5rem;cursor:pointer}
main{padding:1rem 1.2rem;max-width:1200px}h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef0f3;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:.8rem}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.7rem .9rem}
.card h3{margin:0 0 .3rem;font-size:1rem}.muted{color:var(--muted)}.small{font-size:.85rem}
.status{display:inline-block;border-radius:10px;padding:0 .5rem;font-size:.8rem;font-weight:600;color:#fff;background:var(--muted)}
.status.healthy{background:var(--ok)}.status.degraded{background:var(--warn)}.status.unhealthy,.status.unreachable,.status.silent{background:var(--bad)}
.figures{display:flex;gap:.8rem;flex-wrap:wrap}.figure{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6rem .9rem;min-width:150px}
.figure b{display:block;font-size:1.4rem}pre{background:#fff;border:1px solid var(--line);padding:.6rem;overflow:auto;max-height:28rem;white-space:pre-wrap;word-break:break-word}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin:.6rem 0}.actions form{display:inline}
button,.button{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:.35rem .8rem;cursor:pointer;font:inherit;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent);border:1px solid var(--accent)}button.danger{background:var(--bad)}
input,select,textarea{font:inherit;padding:.25rem .4rem;border:1px solid var(--line);border-radius:4px}
form.filters{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end;margin-bottom:.8rem}form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
.notice{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .8rem;border-radius:6px;margin:.5rem 0}.error{background:#ffebe9;border-color:var(--bad)}
svg.chart{background:#fff;border:1px solid var(--line);border-radius:6px;width:100%;height:140px}
.legend span{margin-right:1rem}.pub{color:#0b5cad}.app{color:#1a7f37}
progress{width:100%;height:1.2rem}
.signin{max-width:360px;margin:4rem auto;background:#fff;border:1px solid var(--line);border-radius:8px;padding:1.2rem}
.signin label{display:block;margin:.6rem 0}.signin input{width:100%}
`;

export const CONSOLE_JS = `(() => {
  const main = document.querySelector('main[data-refresh]');
  if (!main) return;
  const every = Number(main.dataset.refresh) || 5000;
  const refresh = async () => {
    if (document.visibilityState !== 'visible') return;
    try {
      const response = await fetch(location.href, { headers: { 'x-console-fragment': '1' }, credentials: 'same-origin' });
      if (response.ok && response.headers.get('x-console-fragment') === '1') main.innerHTML = await response.text();
    } catch {}
  };
  setInterval(refresh, every);
})();
`;
