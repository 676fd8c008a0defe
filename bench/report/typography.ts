/** Typography of the generated French pages. */
/**
 * The typographic apostrophe of the other pages of docs/ (d’un, l’appel)
 * in the prose, the report's strings being written with the ASCII one;
 * code (fenced blocks, inline code) is left as it is.
 */
export function frenchApostrophes(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (line.trimStart().startsWith('```')) {
        fenced = !fenced;
        return line;
      }
      if (fenced) return line;
      return line
        .split(/(`[^`]*`)/)
        .map((part, i) => (i % 2 === 1 ? part : part.replace(/(\p{L})'(?=\p{L})/gu, '$1’')))
        .join('');
    })
    .join('\n');
}
