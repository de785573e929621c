import { Hono } from "hono";

/**
 * The status page at `/`: nodes, deployments, pods, jobs and cronjobs, updated live from the API's own watch
 * streams. One HTML document with a little inline script and no dependencies; it authenticates
 * with the HttpOnly cookie that `minik dashboard`'s one-time link sets.
 */
export function createStatusPage(): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
    );
    return c.html(PAGE);
  });
  return app;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>minik</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
header{background:#1d2430;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}#conn{font-size:12px;opacity:.8}
main{padding:12px 20px;display:grid;gap:16px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px}
h2{font-size:15px;margin:4px 0 8px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f3;font-variant-numeric:tabular-nums}
th{font-size:12px;color:#5b6574;text-transform:uppercase}
.ok{color:#137333}.warn{color:#b06000}.bad{color:#c5221f}.muted{color:#8a93a0}
</style></head>
<body><header><h1>minik</h1><span id="conn">connecting…</span></header>
<main>
<section><h2>Nodes</h2><table id="nodes"></table></section>
<section><h2>Deployments</h2><table id="deployments"></table></section>
<section><h2>Pods</h2><table id="pods"></table></section>
<section><h2>Jobs</h2><table id="jobs"></table></section>
<section><h2>CronJobs</h2><table id="cronjobs"></table></section>
</main>
<script>
const kinds = {
  nodes: { path: "/api/v1/nodes", cols: ["Name","Status","CPU","Memory","Age"], row: n => [n.metadata.name, cond(n,"Ready"), n.status?.capacity?.cpu, mem(n.status?.capacity?.memory), age(n)] },
  deployments: { path: "/apis/apps/v1/deployments", cols: ["Namespace","Name","Ready","Up-to-date","Available","Age"],
    row: d => [d.metadata.namespace, d.metadata.name, (d.status?.readyReplicas||0)+"/"+(d.spec?.replicas??0), d.status?.updatedReplicas||0, d.status?.availableReplicas||0, age(d)] },
  pods: { path: "/api/v1/pods", cols: ["Namespace","Name","Ready","Status","Restarts","IP","Age"],
    row: p => [p.metadata.namespace, p.metadata.name, ready(p), podStatus(p), restarts(p), p.status?.podIP||"", age(p)] },
  jobs: { path: "/apis/batch/v1/jobs", cols: ["Namespace","Name","Status","Completions","Age"],
    row: j => [j.metadata.namespace, j.metadata.name, jobStatus(j), (j.status?.succeeded||0)+"/"+(j.spec?.completions??1), age(j)] },
  cronjobs: { path: "/apis/batch/v1/cronjobs", cols: ["Namespace","Name","Schedule","Suspend","Active","Last schedule"],
    row: c => [c.metadata.namespace, c.metadata.name, c.spec?.schedule, c.spec?.suspend?"True":"False", (c.status?.active||[]).length, c.status?.lastScheduleTime||"<none>"] },
};
const state = {};
function esc(s){return String(s??"").replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]))}
function age(o){const s=Math.max(0,(Date.now()-Date.parse(o.metadata.creationTimestamp))/1000|0);return s<120?s+"s":s<7200?(s/60|0)+"m":s<172800?(s/3600|0)+"h":(s/86400|0)+"d"}
function cond(o,t){const c=(o.status?.conditions||[]).find(c=>c.type===t);return c?.status==="True"?t:"Not"+t}
function ready(p){const cs=p.status?.containerStatuses||[];return cs.filter(c=>c.ready).length+"/"+(p.spec?.containers||[]).length}
function restarts(p){return (p.status?.containerStatuses||[]).reduce((a,c)=>a+(c.restartCount||0),0)}
function podStatus(p){if(p.metadata.deletionTimestamp)return "Terminating";for(const c of p.status?.containerStatuses||[]){const w=c.state?.waiting?.reason||c.state?.terminated?.reason;if(w)return w}return p.status?.phase||"Pending"}
function jobStatus(j){for(const t of ["Complete","Failed","Suspended"])if((j.status?.conditions||[]).some(c=>c.type===t&&c.status==="True"))return t;return "Running"}
function cls(v){return /Err|Crash|Fail|Not|OOM|BackOff/.test(v)?"bad":/Pending|Creating|Terminating/.test(v)?"warn":/Running|Ready|Complete/.test(v)?"ok":""}
function mem(q){const m=/^(\\d+)Ki$/.exec(q||"");return m?(m[1]/1048576).toFixed(1)+" GiB":q}
function render(kind){const k=kinds[kind];const items=[...(state[kind]||new Map()).values()].sort((a,b)=>(a.metadata.namespace||"").localeCompare(b.metadata.namespace||"")||a.metadata.name.localeCompare(b.metadata.name));
  document.getElementById(kind).innerHTML="<tr>"+k.cols.map(c=>"<th>"+c+"</th>").join("")+"</tr>"+(items.length?items.map(o=>"<tr>"+k.row(o).map(v=>'<td class="'+cls(String(v))+'">'+esc(v)+"</td>").join("")+"</tr>").join(""):'<tr><td class="muted" colspan="9">none</td></tr>')}
async function follow(kind){const k=kinds[kind];
  for(;;){try{const list=await (await fetch(k.path,{credentials:"same-origin"})).json();
      if(list.kind==="Status"){document.getElementById("conn").textContent=list.message+" — run \`minik dashboard\` for a login link";return}
      state[kind]=new Map(list.items.map(o=>[o.metadata.uid,o]));render(kind);document.getElementById("conn").textContent="live";
      const res=await fetch(k.path+"?watch=1&resourceVersion="+list.metadata.resourceVersion,{credentials:"same-origin"});
      const reader=res.body.pipeThrough(new TextDecoderStream()).getReader();let buf="";
      for(;;){const {value,done}=await reader.read();if(done)break;buf+=value;let i;
        while((i=buf.indexOf("\\n"))>=0){const line=buf.slice(0,i);buf=buf.slice(i+1);if(!line.trim())continue;const ev=JSON.parse(line);
          if(ev.type==="ERROR")throw new Error(ev.object.message);
          if(ev.type==="DELETED")state[kind].delete(ev.object.metadata.uid);else state[kind].set(ev.object.metadata.uid,ev.object);render(kind)}}
    }catch(e){document.getElementById("conn").textContent="reconnecting… ("+e.message+")"}
    await new Promise(r=>setTimeout(r,1000))}}
for(const k of Object.keys(kinds))follow(k);
setInterval(()=>{for(const k of Object.keys(kinds))if(state[k])render(k)},5000);
</script></body></html>`;
