/**
 * Why a prompt cannot be prepared, as a value: `voix check` and a reload list
 * every one of them with the prompt's id (the config layer adds file, line
 * and key) instead of stopping at the first or failing later during a call.
 */

export type PromptErrorReason =
  /** The source itself is malformed (empty text, bad voice name, rate out of range). */
  | 'invalid-source'
  | 'file-missing'
  | 'file-unreadable'
  /** The path exists but is a directory or a device. */
  | 'not-a-file'
  /** ffprobe cannot read it as audio at all, or it has no audio stream. */
  | 'not-audio'
  /** Audio ffmpeg reads, in a container voix does not take (WAV, MP3, OGG only). */
  | 'unsupported-format'
  /** ffmpeg, ffprobe or espeak-ng is not installed; `debianPackage` says what to install. */
  | 'tool-missing'
  | 'unknown-voice'
  | 'synthesis-failed'
  | 'conversion-failed'
  /** The conversion produced no sample at all. */
  | 'empty-audio';

export type ExternalTool = 'ffmpeg' | 'ffprobe' | 'espeak-ng';

export interface PromptError {
  readonly reason: PromptErrorReason;
  /** One sentence for the operator: what is wrong, with what, and what to do. */
  readonly message: string;
  readonly tool?: ExternalTool;
  readonly debianPackage?: string;
}

/** The Debian package that ships each tool. */
export const DEBIAN_PACKAGE_OF: Readonly<Record<ExternalTool, string>> = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  'espeak-ng': 'espeak-ng',
};

export function invalidSource(message: string): PromptError {
  return { reason: 'invalid-source', message };
}

/** `detail` set: the tool was found but does not run (a broken install). */
export function toolMissing(tool: ExternalTool, command: string, detail?: string): PromptError {
  const debianPackage = DEBIAN_PACKAGE_OF[tool];
  if (detail !== undefined) {
    return {
      reason: 'tool-missing',
      message: `${tool} (${command}) does not run: ${detail}: reinstall the Debian package ${debianPackage} (apt-get install --reinstall ${debianPackage})`,
      tool,
      debianPackage,
    };
  }
  const where = command.includes('/') ? `${tool} was not found at ${command}` : `${tool} is not installed (no ${command} in PATH)`;
  return { reason: 'tool-missing', message: `${where}: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`, tool, debianPackage };
}

/** The last meaningful line of a tool's stderr, which is where ffmpeg and espeak-ng put the cause. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines[lines.length - 1] ?? '';
}
