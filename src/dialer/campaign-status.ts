/**
 * A campaign's progress as one JSON object: what `voix campaign status
 * --json` prints and what the administration API serves, so scripts read
 * the same thing from both. The pace is measured from the database (contacts
 * finished over the last minutes), so it holds across restarts and for any
 * reader.
 */
import type { Campaign, CampaignProgress, CampaignStore } from './campaign-store.js';

/** The window over which the API measures the pace of a campaign. */
export const PACE_WINDOW_MS = 5 * 60_000;

export interface CampaignStatusView {
  readonly campaign: string;
  readonly purpose: string;
  readonly state: string;
  /** Whether the configuration file defines it (else voix does not dial it). */
  readonly configured: boolean;
  readonly progress: CampaignProgress;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function campaignStatusJson(view: CampaignStatusView, now: number): Record<string, unknown> {
  const p = view.progress;
  return {
    campaign: view.campaign,
    purpose: view.purpose,
    state: view.state,
    configured: view.configured,
    contacts: p.contacts,
    done: p.done,
    percent: p.contacts === 0 ? 0 : Math.floor((p.done * 100) / p.contacts),
    results: p.results,
    waiting: p.waiting,
    inFlight: p.inFlight,
    attempts: p.attempts,
    // A contact never scheduled waits for time 0: due now.
    nextAttemptAt: p.nextAttemptAt === null ? null : iso(Math.max(p.nextAttemptAt, now)),
  };
}

/** The status with the pace: contacts finished per minute over PACE_WINDOW_MS, and when the rest should be done at that pace. */
export function campaignStatusWithPace(store: CampaignStore, campaign: Campaign, configured: boolean, now: number): Record<string, unknown> {
  const progress = store.progress(campaign.id);
  const finished = store.resultsSince(campaign.id, now - PACE_WINDOW_MS);
  const perMinute = (finished * 60_000) / PACE_WINDOW_MS;
  const remaining = progress.contacts - progress.done;
  const etaSeconds = perMinute > 0 && campaign.state === 'running' ? Math.round((remaining / perMinute) * 60) : null;
  return {
    ...campaignStatusJson({ campaign: campaign.name, purpose: campaign.purpose, state: campaign.state, configured, progress }, now),
    pace: { windowSeconds: PACE_WINDOW_MS / 1000, contactsPerMinute: Math.round(perMinute * 10) / 10, etaSeconds },
  };
}
