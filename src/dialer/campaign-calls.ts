/**
 * Turns a call the dialer planned into a call voix places: the INVITE
 * through the campaign's trunk (presenting the campaign's number), and the
 * message — prepared once with the configuration, or written out for this
 * contact and spoken just before the INVITE leaves, loaded into the media
 * workers for this call only.
 */
import type { OriginateRequest, OriginatedCallResult } from '../calls/originated-call.js';
import type { CallTarget } from '../calls/call-target.js';
import type { CampaignConfig, TrunkConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_AMD_SETTINGS } from '../media/answering-machine-detector.js';
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import type { MediaPlayout } from '../media/playout/playout-protocol.js';
import type { PromptStore } from '../media/prompts/prompt-store.js';
import { campaignMessageId, campaignOptOutId, isFixedMessage, personalText } from './campaign-prompts.js';
import type { PlannedCall } from './dialer.js';

export interface CampaignCallsOptions {
  readonly trunks: () => readonly TrunkConfig[];
  readonly target: (trunk: TrunkConfig, number: string, campaign: CampaignConfig) => CallTarget;
  readonly originate: (request: OriginateRequest) => Promise<OriginatedCallResult>;
  /** Speaks personal messages (espeak-ng, cached by text). */
  readonly prompts: PromptStore;
  readonly playout: MediaPlayout;
  readonly logger: Logger;
  readonly now: () => number;
}

/** How a campaign's calls are named in logs, CDRs and the call core ("campaign relance"). */
export function campaignOrigin(name: string): string {
  return `campaign ${name}`;
}

export class CampaignCalls {
  constructor(private readonly options: CampaignCallsOptions) {}

  async place(call: PlannedCall): Promise<OriginatedCallResult> {
    const { campaign, contact } = call;
    const trunk = this.options.trunks().find((t) => t.name === campaign.trunk);
    if (trunk === undefined) return this.failed(`no trunk named ${campaign.trunk}`);
    const message = await this.message(call);
    if (!message.ok) return this.failed(message.reason);
    try {
      return await this.options.originate({
        callId: call.callId,
        origin: campaignOrigin(campaign.name),
        target: this.options.target(trunk, contact.phone, campaign),
        ringSeconds: campaign.ringSeconds,
        message: [{ kind: 'prompt', prompt: message.promptId }],
        optOutKey: campaign.optOutKey as DtmfDigit | null,
        optOutConfirmation: [{ kind: 'prompt', prompt: campaignOptOutId(campaign.name) }],
        onOptOut: call.onOptOut,
        connect: campaign.connect,
        amd: campaign.answeringMachine === null ? null : { settings: DEFAULT_AMD_SETTINGS, onMachine: campaign.answeringMachine },
      });
    } finally {
      await message.release();
    }
  }

  private failed(detail: string): OriginatedCallResult {
    return { outcome: 'failed', status: 500, detail, answeredAt: null, endedAt: this.options.now() };
  }

  private async message(call: PlannedCall): Promise<{ ok: true; promptId: string; release: () => Promise<void> } | { ok: false; reason: string }> {
    const { campaign, contact } = call;
    const spec = campaign.message;
    if (isFixedMessage(spec) || spec.kind !== 'text') return { ok: true, promptId: campaignMessageId(campaign.name), release: async () => undefined };
    const { text, missing } = personalText(spec.text, contact);
    if (missing.length > 0) this.options.logger.warn('contact fields missing from the message', { campaign: campaign.name, phone: contact.phone, fields: missing });
    const promptId = `campaign/${campaign.name}/call/${call.callId}`;
    const prepared = await this.options.prompts.prepare(new Map([[promptId, { kind: 'text', text, voice: spec.voice }]]));
    const prompt = prepared.ok ? prepared.prompts.get(promptId) : undefined;
    if (prompt === undefined) return { ok: false, reason: `the message for ${contact.phone} could not be spoken: ${prepared.ok ? 'no prompt' : prepared.errors.map((e) => e.message).join('; ')}` };
    const { playout } = this.options;
    await playout.loadPrompt(promptId, 'PCMU', prompt.pcmu);
    await playout.loadPrompt(promptId, 'PCMA', prompt.pcma);
    return {
      ok: true,
      promptId,
      release: async () => {
        await playout.unloadPrompt(promptId, 'PCMU');
        await playout.unloadPrompt(promptId, 'PCMA');
      },
    };
  }
}
