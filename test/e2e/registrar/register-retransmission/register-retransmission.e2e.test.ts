import { createHash, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { DEFAULT_USERS, RawSipConnection, parseDigest, startVoix, useHarness, type ReceivedSipMessage } from '../../harness/index.js';

useHarness();

function header(text: string, name: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (line.slice(0, colon).trim().toLowerCase() === name) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

function digestAnswer(challenge: Record<string, string>, user: string, password: string, uri: string): string {
  const algorithm = challenge['algorithm'] ?? 'MD5';
  const hash = (text: string): string => createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5').update(text).digest('hex');
  const realm = challenge['realm'] ?? '';
  const nonce = challenge['nonce'] ?? '';
  const cnonce = randomBytes(8).toString('hex');
  const response = hash(`${hash(`${user}:${realm}:${password}`)}:${nonce}:00000001:${cnonce}:auth:${hash(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", nc=00000001, qop=auth`;
}

it('REG-RETX-01: a retransmitted REGISTER over UDP gets the same final response again, byte for byte, and is not handled twice', async () => {
  const voix = await startVoix();
  const user = DEFAULT_USERS[0];
  if (user === undefined) throw new Error('no default user');
  const connection = await RawSipConnection.open({ transport: 'udp', host: '127.0.0.1', port: voix.ports.udp });
  const uri = `sip:${voix.domain}`;
  const register = (cseq: number, branch: string, authorization: string | null): string =>
    [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${connection.localAddress}:${connection.localPort};branch=z9hG4bK${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user.extension}@${voix.domain}>;tag=retx${cseq}`,
      `To: <sip:${user.extension}@${voix.domain}>`,
      'Call-ID: reg-retx-01@127.0.0.1',
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${user.extension}@${connection.localAddress}:${connection.localPort}>`,
      'Expires: 60',
      ...(authorization === null ? [] : [`Authorization: ${authorization}`]),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const finals = (messages: readonly ReceivedSipMessage[]): ReceivedSipMessage[] => messages.filter((m) => m.statusCode !== null && m.statusCode >= 200);

  const first = register(1, 'retx1', null);
  connection.send(first);
  const challenged = await connection.collect((m) => finals(m).length >= 1, 5000);
  connection.send(first);
  const challengedAgain = await connection.collect((m) => finals(m).length >= 2, 5000);
  const challenge = parseDigest(header(finals(challengedAgain.messages)[0]?.text ?? '', 'www-authenticate')[0] ?? '');
  const second = register(2, 'retx2', digestAnswer(challenge, user.extension, user.password, uri));
  connection.send(second);
  const accepted = await connection.collect((m) => finals(m).length >= 3, 5000);
  connection.send(second);
  const acceptedAgain = await connection.collect((m) => finals(m).length >= 4, 5000);
  connection.close();

  const answers = finals(acceptedAgain.messages);
  expect([challenged.timedOut, challengedAgain.timedOut, accepted.timedOut, acceptedAgain.timedOut]).toEqual([false, false, false, false]);
  expect(answers.map((m) => `${m.statusCode} ${m.cseq}`)).toEqual(['401 1 REGISTER', '401 1 REGISTER', '200 2 REGISTER', '200 2 REGISTER']);
  expect(answers[1]?.text).toBe(answers[0]?.text);
  expect(answers[3]?.text).toBe(answers[2]?.text);
  expect(challenge['nonce']).toMatch(/.+/);
});
