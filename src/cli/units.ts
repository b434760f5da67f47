// Numbers for people: bytes in binary units (libvirt and virsh count in
// KiB/MiB/GiB), durations as m:ss or h:mm:ss.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 0 B, 512 B, 1.5 KiB, 115.0 MiB, 2.00 GiB: three significant digits above 1 KiB. */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  let u = 0;
  let v = n;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${BYTE_UNITS[u]}`;
}

/** 0:07, 1:02:03 */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
