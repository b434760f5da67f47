import { NODE1_URI, NODE2_MIGRATE_URI, NODE2_URI, guestXml, labUniq, openNode, removeDomain, waitGuestReady } from '../helpers/lab';
test('scratch', async () => {
  const n1 = await openNode(NODE1_URI); const n2 = await openNode(NODE2_URI);
  const name = labUniq('scr');
  try {
    const dom = await n1.createDomain(guestXml(name));
    await waitGuestReady(name);
    console.log('before', await dom.jobStats(), await dom.info());
    const t0 = Date.now();
    const p = dom.migrate({ destinationUri: NODE2_URI, migrateUri: NODE2_MIGRATE_URI, bandwidthMiBs: 20 });
    let done = false; void p.finally(() => { done = true; });
    const seen: unknown[] = [];
    while (!done) { try { seen.push({ t: Date.now() - t0, s: await dom.jobStats(), st: await dom.state() }); } catch (e) { seen.push(String(e)); } await new Promise((r) => setTimeout(r, 500)); }
    await p;
    console.log(JSON.stringify(seen.slice(0, 3), null, 1), JSON.stringify(seen.slice(-3), null, 1));
    try { console.log('src completed', await dom.jobStats({ completed: true })); } catch (e) { console.log('src completed err', e); }
    const d2 = await n2.domain(name);
    console.log('dst completed', await d2.jobStats({ completed: true }), await d2.state());
    try { console.log('src state', await dom.state()); } catch (e) { console.log('src state err', (e as any).codeName, String(e)); }
  } finally { await removeDomain(n1, name); await removeDomain(n2, name); await n1.close(); await n2.close(); }
});
