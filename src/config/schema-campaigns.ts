/**
 * The `campaigns` section: outbound campaigns of the dialer (src/dialer).
 * Defaults follow French law for calls to consumers (Code de la
 * consommation art. L223-1 and D223-9, loi n° 2025-594); a campaign that
 * departs from them says so in voix's log when it starts.
 */
import { z } from 'zod';
import { HOLIDAY_CALENDARS } from '../rules/time-conditions.js';
import { e164Schema, nameSchema, promptSchema } from './schema-dialplan.js';

const retryRuleSchema = (afterSeconds: number, maxRetries: number, what: string) =>
  z
    .strictObject({
      delay: z.int().min(1).max(30 * 86_400).default(afterSeconds).meta({ description: 'Secondes avant le nouvel essai.' }),
      max_retries: z.int().min(0).max(20).default(maxRetries).meta({ description: 'Nouveaux essais au plus pour cette issue.' }),
    })
    .prefault({})
    .meta({ description: `Nouvel essai après ${what}.` });

const hoursSchema = z
  .strictObject({
    weekly: z.record(z.string(), z.array(z.string())).meta({ description: 'Heures d’appel par jours, à l’heure du contact : "mon-fri": ["10:00-13:00", "14:00-20:00"].' }),
    holidays: z.enum(HOLIDAY_CALENDARS).optional().meta({ description: 'Jours fériés sans appel : france (par défaut), alsace-moselle, ou none.' }),
    closed: z.array(z.string()).optional().meta({ description: 'Jours sans appel : "2026-12-24", "2026-08-03..2026-08-21".' }),
    open: z.array(z.string()).optional().meta({ description: 'Créneaux d’appel exceptionnels, même syntaxe que closed.' }),
  })
  .meta({ description: 'Heures d’appel ; par défaut les heures légales (lundi–vendredi 10 h–13 h et 14 h–20 h, hors jours fériés).' });

const campaignSchema = z
  .strictObject({
    name: nameSchema('de la campagne').meta({ description: 'Nom de la campagne (voix campaign … <nom>).' }),
    purpose: z
      .enum(['prospecting', 'customer'])
      .meta({ description: 'Finalité : prospecting (prospection : consentement enregistré exigé) ou customer (relation avec un client sous contrat).' }),
    trunk: nameSchema('du trunk').meta({ description: 'Trunk qui porte les appels de la campagne.' }),
    caller_id: e164Schema().optional().meta({ description: 'Numéro présenté (E.164) ; par défaut celui du trunk.' }),
    calls_per_second: z.number().positive().max(100).default(1).meta({ description: 'Nouveaux appels par seconde au plus, régulièrement espacés.' }),
    max_calls: z.int().min(1).max(1000).default(10).meta({ description: 'Appels simultanés au plus.' }),
    ring_time: z.int().min(5).max(120).default(25).meta({ description: 'Secondes de sonnerie avant d’abandonner (pas de réponse).' }),
    message: promptSchema().meta({ description: 'Message joué au décroché ; un texte peut citer les colonnes du contact entre accolades : {prenom}, {nom}, {ville}…' }),
    opt_out_key: z
      .union([z.string().regex(/^[0-9*#]$/, 'must be one key: 0-9, * or #'), z.literal(false)])
      .default('9')
      .meta({ description: 'Touche qui inscrit le numéro sur la liste d’opposition (9 par défaut ; false : aucune).' }),
    opt_out_confirmation: promptSchema()
      .default({ text: 'Votre numéro a été retiré de nos listes d’appel. Au revoir.' })
      .meta({ description: 'Message joué après la touche d’opposition, avant de raccrocher.' }),
    connect: z
      .string()
      .regex(/^\d{2,10}$/, 'must be an internal number of 2 to 10 digits: a menu, a user or a group')
      .optional()
      .meta({
        description:
          'Après le message, l’appelé qui décroche est mis en relation avec ce numéro interne : un menu vocal (par exemple 1 = parler à quelqu’un), un poste ou un groupe d’agents ; sans connect, voix raccroche après le message. La touche d’opposition reste active dans le menu.',
      }),
    progressive: z
      .boolean()
      .default(false)
      .meta({
        description:
          'Mode progressif : n’appeler que lorsqu’un agent de connect (un poste, ou les membres d’un groupe) est enregistré et libre, un appel par agent libre ; connect doit alors être un poste ou un groupe.',
      }),
    answering_machine: z
      .union([z.literal(false), z.enum(['hangup', 'message'])], { error: 'must be false, hangup or message' })
      .default(false)
      .meta({
        description:
          'Détection des répondeurs (énergie et silences des premières secondes) : hangup (raccrocher, issue « machine »), message (laisser le message au répondeur) ou false (par défaut : pas de détection, le message part au décroché).',
      }),
    hours: hoursSchema.optional(),
    max_attempts: z.int().min(1).max(100).default(4).meta({ description: 'Tentatives au plus par numéro sur attempt_period jours, toutes campagnes confondues (loi : 4).' }),
    attempt_period: z.int().min(1).max(365).default(30).meta({ description: 'Période (jours) sur laquelle max_attempts compte (loi : 30).' }),
    quiet_after_refusal: z.int().min(0).max(365).default(60).meta({ description: 'Jours sans appel après un refus (loi : 60).' }),
    consent_required: z
      .boolean()
      .optional()
      .meta({ description: 'Exiger un consentement enregistré ; par défaut oui pour la prospection, non pour la relation client. S’écarter de la loi est écrit dans le journal.' }),
    retry: z
      .strictObject({
        busy: retryRuleSchema(15 * 60, 3, 'une ligne occupée'),
        no_answer: retryRuleSchema(2 * 3600, 2, 'une absence de réponse'),
        failed: retryRuleSchema(30 * 60, 2, 'un échec'),
        congestion: retryRuleSchema(5 * 60, 5, 'un encombrement du réseau'),
        unknown: retryRuleSchema(30 * 60, 2, 'une tentative perdue dans un arrêt brutal de voix'),
      })
      .prefault({})
      .meta({ description: 'Nouveaux essais selon l’issue ; un appel abouti, refusé ou une opposition ne sont jamais rappelés.' }),
  })
  .meta({ description: 'Une campagne d’appels sortants : les contacts sont importés par voix campaign import.' });

export const campaignsSchema = z.array(campaignSchema).default([]).meta({ description: 'Campagnes d’appels sortants (automate d’appels).' });
