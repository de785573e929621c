/**
 * The dashboard's stylesheet. Every text colour meets WCAG AA (4.5:1) on its background:
 * muted #4f5866 on white is 7.0:1, ok #137333 5.9:1, warn #8a4b00 6.9:1, bad #b3261e 6.1:1,
 * links #0b57d0 6.5:1, the header's #d5dbe3 on #1d2430 11:1. Below 760 px the navigation becomes
 * a scrolling strip, optional columns hide and the detail pane takes the whole width.
 */
export const DASHBOARD_CSS = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
a{color:#0b57d0}a:focus-visible,button:focus-visible,select:focus-visible,input:focus-visible{outline:3px solid #0b57d0;outline-offset:1px}
.top{background:#1d2430;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
.top h1{font-size:18px;margin:0}.top label{color:#d5dbe3;font-size:13px}
#conn{font-size:13px;color:#d5dbe3}#conn.bad{color:#ffb4ab}#conn.warn{color:#ffd599}
.top .end{margin-left:auto;display:flex;gap:8px;align-items:center;color:#d5dbe3;font-size:13px}
.top button{background:#2e3847;color:#fff;border:1px solid #5b6574}
.shell{display:grid;grid-template-columns:170px minmax(0,1fr);min-height:calc(100vh - 48px)}
.shell.open{grid-template-columns:170px minmax(0,1fr) minmax(340px,42%)}
nav{background:#fff;border-right:1px solid #dde1e7;padding:8px 0}
nav h2{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#4f5866;margin:10px 14px 4px}
nav a{display:block;padding:4px 14px;text-decoration:none;color:#1d2430}
nav a[aria-current=page]{background:#e8eefc;color:#0b57d0;font-weight:600}
nav .n{color:#4f5866;font-size:12px;float:right}
main{padding:12px 16px;min-width:0;display:grid;gap:14px;align-content:start}
main.stale,#detail.stale{opacity:.75}
section,.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px;min-width:0}
h2{font-size:15px;margin:4px 0 8px}h3{font-size:13px;margin:12px 0 4px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;font-variant-numeric:tabular-nums;white-space:nowrap}
td.wrap{white-space:normal;word-break:break-word}
td.name{max-width:28em;overflow:hidden;text-overflow:ellipsis}
th{font-size:12px;color:#4f5866;text-transform:uppercase}
tr.sel{background:#e8eefc}
.shell.open main .opt{display:none}
.ok{color:#137333}.warn{color:#8a4b00}.bad{color:#b3261e}.muted{color:#4f5866}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px}
.card b{display:block;font-size:22px}
.chart svg{width:100%;height:90px;display:block}
.chart polyline{fill:none;stroke:#0b57d0;stroke-width:2;vector-effect:non-scaling-stroke}
.chart .area{fill:#e8eefc;stroke:none}
.layers{list-style:none;padding:0;margin:6px 0;display:grid;gap:2px;font-size:12px}
.layer{padding:4px 8px;border:1px solid #c4cbd6;border-radius:3px;background:#f6f7f9;word-break:break-all}
.layer.container{background:#e6f4ea;border-color:#137333}
.layer.init{background:#fef7e0;border-color:#8a4b00}
.gauge{height:10px;background:#eef0f3;border-radius:5px;overflow:hidden;margin:6px 0 2px}
.gauge div{height:100%;background:#0b57d0}
#detail{background:#fff;border-left:1px solid #dde1e7;padding:10px 14px;min-width:0;overflow:auto;max-height:calc(100vh - 48px);position:sticky;top:0}
#detail header{display:flex;gap:8px;align-items:baseline;justify-content:space-between}
#detail h2{font-size:16px;word-break:break-all}
pre{background:#f6f7f9;border:1px solid #eef0f3;padding:8px;overflow:auto;max-height:360px;font-size:12px;margin:4px 0}
.actions{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:6px 0}
button{font:inherit;padding:3px 10px;border-radius:4px;border:1px solid #8a93a0;background:#fff;color:#1d2430;cursor:pointer}
button.danger{border-color:#b3261e;color:#b3261e}
input[type=number]{width:5em;font:inherit}
#login{position:fixed;inset:0;background:rgba(29,36,48,.6);display:flex;align-items:center;justify-content:center;padding:16px}
#login[hidden]{display:none}
#login div{background:#fff;border-radius:8px;padding:20px;max-width:420px}
noscript p{background:#fff4e5;border:1px solid #8a4b00;padding:8px 12px;margin:0;border-radius:6px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:760px){
 .shell,.shell.open{grid-template-columns:minmax(0,1fr)}
 nav{display:flex;overflow-x:auto;border-right:0;border-bottom:1px solid #dde1e7;padding:0 4px;white-space:nowrap}
 nav h2{display:none}nav a{padding:8px 10px}nav .n{float:none;margin-left:4px}
 .opt{display:none}main{padding:8px}
 .cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}.card b{font-size:18px}
 td.name{max-width:52vw}
 #detail{border-left:0;border-top:2px solid #dde1e7;max-height:none;position:static}
 .top .end{margin-left:0}
}
`;
