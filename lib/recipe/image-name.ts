/** Renders an image name template such as `{recipe}-{date}-{time}-{shortId}` (all times UTC). */
export function renderImageName(template: string, v: { recipe: string; bakeId: string; at: Date }): string {
  const iso = v.at.toISOString(); // 2026-11-26T04:47:42.123Z
  const date = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  const tokens: Record<string, string> = {
    recipe: v.recipe,
    date,
    time,
    timestamp: `${date}T${time}Z`,
    bakeId: v.bakeId,
    shortId: shortId(v.bakeId),
  };
  return template.replace(/\{(\w+)\}/g, (whole, token: string) => tokens[token] ?? whole);
}

export function shortId(bakeId: string): string {
  return bakeId.replaceAll('-', '').slice(-8);
}
