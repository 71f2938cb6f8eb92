// A stable colour per writer (a site id, or a peer id before its site is known): the peer list
// and the cells a peer changed use the same one.
export function colorFor(id: string): string {
  let h = 0;
  for (const ch of id.toUpperCase()) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 70% 45%)`;
}
