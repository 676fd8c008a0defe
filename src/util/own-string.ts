/**
 * A copy of `text` that shares no memory with the string it came from.
 *
 * V8 makes a substring of 13 characters or more a view on its parent string
 * (a "sliced string"), and a concatenation a pair of pointers to its parts:
 * a Call-ID or a Via branch read from a parsed message, or a key built from
 * them, keeps the whole header text of that message alive for as long as it
 * is kept. What outlives the message (a transaction's key and Call-ID, kept
 * for the 32 s of Timer J) is copied with this. The UTF-8 round trip is
 * exact for any string decoded from UTF-8, as the parser's are.
 */
export function ownString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
