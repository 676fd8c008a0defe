/**
 * The parts of the configuration schema that describe the company's phone
 * system rather than the server: who may call what (permission classes over
 * the numbering plan), ring groups, opening hours, inbound and outbound
 * routes, trunks. Shapes and local rules only; what refers to what (a route
 * to a trunk that exists, a forward allowed by the user's class, overlapping
 * patterns) is checked in dialplan-checks.ts, once the whole file is read.
 *
 * Descriptions are French (user documentation); messages English.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DIAL_CATEGORIES } from '../rules/numbering-plan.js';
import { HOLIDAY_CALENDARS } from '../rules/time-conditions.js';

const TRANSPORT_VALUES = ['udp', 'tcp', 'tls'] as const;
const SRTP_VALUES = ['required', 'optional', 'off'] as const;
const RANGE_CATEGORIES = ['national', 'mobile', 'special', 'premium', 'international', 'unknown'] as const;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// No `i` flag: z.toJSONSchema drops regex flags, and editors would then refuse upper-case names.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
const always = { when: (payload: { value: unknown }) => isRecord(payload.value) };

/** An IPv4/IPv6 address or a CIDR block. */
export function isAddressOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) return isIP(value) !== 0;
  const family = isIP(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export const nameSchema = (what: string) =>
  z.string().regex(NAME, `must be 1 to 40 letters, digits, "-" or "_", starting with a letter or digit`).meta({ description: `Nom ${what} (lettres, chiffres, - et _).` });

/** A number a call can be sent to: resolved like a number dialled by a user. */
export const destinationSchema = () =>
  z
    .string({ error: (iss) => (iss.input === undefined ? undefined : 'must be a quoted number, like "1001" or "0612345678"') })
    .regex(/^\+?[0-9]{2,20}$/, 'must be digits (2 to 20), with an optional leading "+"')
    .meta({
      description:
        'Destination : un numéro composé comme par un utilisateur (entre guillemets) — un poste, un groupe, ou un numéro extérieur soumis au plan de numérotation, aux classes de droits et aux routes sortantes.',
    });

export const e164Schema = () => z.string().regex(/^\+[1-9][0-9]{5,14}$/, 'must be an E.164 number: "+" then 6 to 15 digits, like "+33123456789"');

export const userDialplanFields = {
  permission: z
    .string()
    .min(1)
    .default('internal')
    .meta({
      description:
        'Classe de droits d’appel (permission_classes) : internal (postes internes seulement, par défaut), national, international, all, ou une classe définie dans le fichier. Les numéros d’urgence sont toujours permis.',
    }),
  forward: z
    .strictObject({
      always: destinationSchema().optional().meta({ description: 'Renvoi immédiat de tous les appels vers ce numéro.' }),
      busy: destinationSchema().optional().meta({ description: 'Renvoi quand le poste est occupé ou en « ne pas déranger ».' }),
      no_answer: destinationSchema().optional().meta({ description: 'Renvoi quand le poste ne répond pas dans le délai no_answer_after.' }),
      no_answer_after: z.int().min(5).max(300).default(20).meta({ description: 'Délai de sonnerie avant le renvoi sur non-réponse (secondes).' }),
    })
    .prefault({})
    .meta({
      description:
        'Renvois d’appel. Un renvoi vers l’extérieur n’est accepté que si la classe de droits du poste permet d’appeler ce numéro, et il passe par les routes sortantes.',
    }),
  dnd: z.boolean().default(false).meta({ description: 'Ne pas déranger : les appels reçoivent « occupé » (ou suivent le renvoi sur occupation).' }),
  caller_id: z
    .strictObject({
      name: z.string().min(1).max(80).optional().meta({ description: 'Nom présenté vers l’extérieur.' }),
      number: e164Schema().optional().meta({ description: 'Numéro présenté vers l’extérieur (E.164, par exemple "+33123456789"), s’il appartient à l’entreprise.' }),
    })
    .prefault({})
    .meta({ description: 'Présentation du numéro sur les appels sortants par un trunk. Par défaut : celle du trunk.' }),
};

const groupSchema = z
  .strictObject({
    number: z
      .string({ error: (iss) => (iss.input === undefined ? undefined : 'must be a quoted string of 2 to 10 digits, like "2000"') })
      .regex(/^\d{2,10}$/, 'must be 2 to 10 digits')
      .meta({ description: 'Numéro du groupe, composé comme un poste ; distinct de tous les postes.' }),
    name: z.string().min(1).max(80).meta({ description: 'Nom du groupe, par exemple Accueil.' }),
    strategy: z
      .enum(['simultaneous', 'in_order'])
      .default('simultaneous')
      .meta({ description: 'simultaneous : tous les membres sonnent ensemble ; in_order : l’un après l’autre, dans l’ordre de members.' }),
    members: z
      .array(z.string().regex(/^\d{2,10}$/, 'must be an extension (2 to 10 digits)'))
      .min(1)
      .meta({ description: 'Postes membres (numéros), dans l’ordre.' }),
    ring_time: z
      .int()
      .min(5)
      .max(600)
      .default(20)
      .meta({ description: 'Durée de sonnerie (secondes) : du groupe entier (simultaneous) ou de chaque membre (in_order).' }),
    fallback: destinationSchema()
      .optional()
      .meta({ description: 'Destination quand personne ne répond (un poste ou un autre groupe). Sans fallback, l’appelant entend l’échec.' }),
  })
  .meta({ description: 'Un groupe d’appel : un numéro qui fait sonner plusieurs postes.' });

export const groupsSchema = z.array(groupSchema).default([]).meta({ description: 'Groupes d’appel (ring groups).' });

export const permissionClassesSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be a lower-case name'), z.array(z.enum(DIAL_CATEGORIES)).min(1))
  .default({})
  .meta({
    description:
      'Classes de droits d’appel : nom → catégories de numéros permises (internal, national, mobile, special, international, premium, unknown). S’ajoutent aux classes prédéfinies internal, national, international et all (ou les remplacent si elles portent le même nom). Les numéros d’urgence sont toujours permis.',
  });

export const numberingPlanSchema = z
  .strictObject({
    region: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter region code, like FR').default('FR').meta({ description: 'Région du plan de numérotation (libphonenumber) : FR par défaut.' }),
    outside_line_prefix: z
      .string()
      .regex(/^[0-9]{1,3}$/, 'must be 1 to 3 digits')
      .optional()
      .meta({ description: 'Préfixe de prise de ligne extérieure (par exemple "0") ; aucun par défaut. Les numéros d’urgence marchent avec ou sans.' }),
    emergency_numbers: z
      .array(z.string().regex(/^[0-9]{2,8}$/, 'must be 2 to 8 digits'))
      .optional()
      .meta({ description: 'Numéros d’urgence, toujours permis. Par défaut la liste de l’Arcep : 15, 17, 18, 112, 114, 115, 116000, 116117, 119, 191, 196, 197.' }),
    ranges: z
      .array(
        z.strictObject({
          match: z.string().min(1).meta({ description: 'Motif sur la forme nationale : chiffres, X (0-9), Z (1-9), N (2-9), [1-5], et . final (un chiffre ou plus).' }),
          category: z.enum(RANGE_CATEGORIES).meta({ description: 'Catégorie des numéros de cette tranche.' }),
          label: z.string().min(1).max(80).meta({ description: 'Description courte, reprise dans les journaux.' }),
        }),
      )
      .optional()
      .meta({ description: 'Tranches du plan, la première qui correspond l’emporte. Par défaut le plan français (Arcep).' }),
  })
  .prefault({})
  .meta({ description: 'Plan de numérotation : comment un numéro composé est classé (urgence, national, mobile, surtaxé, international…).' });

const timeConditionSchema = z
  .strictObject({
    timezone: z.string().min(1).optional().meta({ description: 'Fuseau horaire IANA ; Europe/Paris par défaut.' }),
    weekly: z
      .record(z.string(), z.array(z.string()))
      .meta({ description: 'Horaires d’ouverture par jours : "mon-fri": ["08:30-12:00", "14:00-18:00"], sat: ["09:00-12:00"]. Un jour absent est fermé.' }),
    holidays: z.enum(HOLIDAY_CALENDARS).optional().meta({ description: 'Jours fériés fermés : france (par défaut), alsace-moselle, ou none.' }),
    closed: z.array(z.string()).optional().meta({ description: 'Fermetures datées : "2026-12-24", "2026-08-03..2026-08-21", ou "2026-12-31 12:00-18:00".' }),
    open: z.array(z.string()).optional().meta({ description: 'Ouvertures exceptionnelles, même syntaxe que closed.' }),
  })
  .meta({ description: 'Une condition horaire : horaires hebdomadaires, jours fériés français, exceptions datées.' });

export const timeConditionsSchema = z
  .record(z.string().regex(NAME, 'must be a name of letters, digits, "-" or "_"'), timeConditionSchema)
  .default({})
  .meta({ description: 'Conditions horaires, par nom ; utilisées par les routes entrantes (time_condition) et les menus vocaux (menus[].time_condition).' });

const inboundRouteSchema = z
  .strictObject({
    did: z
      .string()
      .regex(/^\+?[0-9]{3,20}$/, 'must be a number, national ("0123456789") or E.164 ("+33123456789")')
      .meta({ description: 'Numéro appelé (SDA / DID), national ou E.164.' }),
    trunk: nameSchema('du trunk').optional().meta({ description: 'Seulement pour les appels de ce trunk ; par défaut, de n’importe quel trunk.' }),
    destination: destinationSchema().optional().meta({ description: 'Destination (poste ou groupe), sans condition horaire.' }),
    time_condition: nameSchema('de la condition horaire').optional().meta({ description: 'Condition horaire qui choisit entre open et closed.' }),
    open: destinationSchema().optional().meta({ description: 'Destination pendant les heures d’ouverture.' }),
    closed: destinationSchema().optional().meta({ description: 'Destination en dehors des heures d’ouverture.' }),
  })
  .superRefine((route, ctx) => {
    const hasCondition = route.time_condition !== undefined;
    if (hasCondition) {
      if (route.destination !== undefined) ctx.addIssue({ code: 'custom', path: ['destination'], message: 'with time_condition, give open and closed instead' });
      if (route.open === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'time_condition needs an open destination' });
      if (route.closed === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'time_condition needs a closed destination' });
    } else {
      if (route.destination === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'needs a destination (or time_condition with open and closed)' });
      for (const key of ['open', 'closed'] as const) {
        if (route[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only makes sense with time_condition' });
      }
    }
  }, always)
  .meta({ description: 'Une route entrante : un numéro appelé vers un poste ou un groupe, éventuellement selon une condition horaire.' });

export const inboundRoutesSchema = z.array(inboundRouteSchema).default([]).meta({ description: 'Routes entrantes (appels reçus des trunks).' });

const outboundRouteSchema = z
  .strictObject({
    name: nameSchema('de la route'),
    match: z
      .string()
      .min(1)
      .meta({
        description:
          'Motif du numéro entier : sur la forme E.164 s’il commence par + ("+33[67]XXXXXXXX"), sinon sur la forme nationale ("0[1-59]XXXXXXXX"). X : 0-9, Z : 1-9, N : 2-9, [..] : classe, . final : un chiffre ou plus.',
      }),
    trunk: nameSchema('du trunk').meta({ description: 'Trunk qui porte les appels de cette route.' }),
    strip: z.int().min(0).max(15).optional().meta({ description: 'Nombre de caractères retirés au début du numéro envoyé.' }),
    prepend: z.string().optional().meta({ description: 'Préfixe ajouté au numéro envoyé (après strip).' }),
    send: z.enum(['e164', 'national']).optional().meta({ description: 'Forme envoyée au trunk : e164 (par défaut) ou national.' }),
  })
  .meta({ description: 'Une route sortante : les numéros qui correspondent au motif partent par ce trunk.' });

export const outboundRoutesSchema = z
  .array(outboundRouteSchema)
  .default([])
  .meta({ description: 'Routes sortantes, dans l’ordre : la première qui correspond l’emporte. Un numéro sans route est refusé.' });

const trunkSchema = z
  .strictObject({
    name: nameSchema('du trunk'),
    host: z.string().refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), 'must be a host name or an IP address').meta({ description: 'Serveur SIP de l’opérateur.' }),
    port: z.int().min(1).max(65_535).optional().meta({ description: 'Port ; par défaut 5061 en TLS, 5060 sinon.' }),
    transport: z.enum(TRANSPORT_VALUES).default('tls').meta({ description: 'Transport vers l’opérateur : tls (par défaut), tcp ou udp.' }),
    domain: z
      .string()
      .refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), 'must be a host name or an IP address')
      .optional()
      .meta({ description: 'Domaine SIP du compte (From, To, REGISTER) ; par défaut host.' }),
    username: z.string().min(1).regex(/^[^\s@:;<>"]+$/, 'must not contain spaces, "@", ":", ";", "<", ">" or quotes').optional().meta({ description: 'Identifiant du compte chez l’opérateur (obligatoire).' }),
    auth_username: z.string().min(1).optional().meta({ description: 'Identifiant d’authentification, s’il diffère de username.' }),
    password: z.string().min(1).optional().meta({ description: 'Mot de passe du compte chez l’opérateur (obligatoire).' }),
    register: z.boolean().default(true).meta({ description: 'S’enregistrer auprès de l’opérateur (REGISTER) pour recevoir les appels.' }),
    register_expires: z.int().min(60).max(86_400).default(600).meta({ description: 'Durée d’enregistrement demandée (secondes).' }),
    caller_id: e164Schema().optional().meta({ description: 'Numéro présenté par défaut sur les appels sortants (E.164).' }),
    inbound_addresses: z
      .array(z.string().refine(isAddressOrCidr, 'must be an IP address or a CIDR block like 203.0.113.0/24'))
      .default([])
      .meta({
        description:
          'Adresses (IP ou blocs CIDR) d’où l’opérateur envoie ses appels, depuis n’importe quel port. Sans elles, seuls les appels venant de host:port sont reconnus comme venant du trunk : à renseigner si l’opérateur appelle depuis d’autres serveurs ou ouvre ses propres connexions TCP/TLS.',
      }),
    srtp: z.enum(SRTP_VALUES).optional().meta({ description: 'SRTP vers l’opérateur : par défaut required en TLS, off sinon.' }),
    max_calls: z.int().min(1).max(1000).default(10).meta({ description: 'Appels simultanés au plus par ce trunk (limite la facture en cas de fraude).' }),
    calls_per_second: z
      .number()
      .positive()
      .max(200)
      .default(5)
      .meta({ description: 'Nouveaux appels par seconde que l’automate d’appels peut lancer par ce trunk, toutes campagnes confondues.' }),
  })
  .superRefine((trunk, ctx) => {
    // Toll fraud starts with an open door: every trunk authenticates.
    if (trunk.username === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'needs username and password: voix authenticates to the provider with them' });
    else if (trunk.password === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'needs a password: voix authenticates to the provider with it' });
  }, always)
  .meta({ description: 'Un trunk SIP : le compte chez un opérateur qui relie voix au réseau téléphonique.' });

/** A prompt: text spoken by espeak-ng, or an audio file converted to G.711 by ffmpeg (src/media/prompts). */
export const promptSchema = () =>
  z
    .union(
      [
        z.strictObject({
          text: z.string().min(1).max(2000).meta({ description: 'Texte dit par la synthèse vocale (espeak-ng, voix française par défaut).' }),
          voice: z.string().regex(/^[a-z]{2,3}([-+][A-Za-z0-9_-]+)?$/, 'must be an espeak-ng voice name like fr or fr-be').optional().meta({ description: 'Voix espeak-ng ; fr par défaut.' }),
        }),
        z.strictObject({
          file: z.string().min(1).meta({ description: 'Fichier audio (WAV, MP3 ou OGG), converti en G.711 8 kHz. Chemin relatif : relatif au dossier de ce fichier.' }),
        }),
      ],
      { error: 'must be { text: "…" } or { file: "path" }' },
    )
    .meta({ description: 'Message enregistré : { text: "…" } (synthèse vocale) ou { file: "chemin" } (fichier audio).' });

const messageSchema = z
  .strictObject({
    number: z
      .string({ error: (iss) => (iss.input === undefined ? undefined : 'must be a quoted string of 2 to 10 digits, like "8000"') })
      .regex(/^\d{2,10}$/, 'must be 2 to 10 digits')
      .meta({ description: 'Numéro du message, composé comme un poste et utilisable comme destination ; distinct des postes et des groupes.' }),
    name: z.string().min(1).max(80).meta({ description: 'Nom du message, par exemple Fermeture.' }),
    prompt: promptSchema(),
    repeat: z.int().min(1).max(10).default(1).meta({ description: 'Nombre de lectures avant de raccrocher.' }),
  })
  .meta({ description: 'Une annonce : voix décroche, joue le message, puis raccroche.' });

export const messagesSchema = z.array(messageSchema).default([]).meta({ description: 'Annonces (par exemple le message de fermeture d’une route entrante).' });

const MENU_KEY = /^[0-9*#A-D]$/;
const MENU_ACTIONS = ['repeat', 'back', 'hangup'] as const;

const menuSchema = z
  .strictObject({
    number: z
      .string({ error: (iss) => (iss.input === undefined ? undefined : 'must be a quoted string of 2 to 10 digits, like "3000"') })
      .regex(/^\d{2,10}$/, 'must be 2 to 10 digits')
      .meta({ description: 'Numéro du menu, composé comme un poste et utilisable comme destination.' }),
    name: z.string().min(1).max(80).meta({ description: 'Nom du menu, par exemple Standard.' }),
    greeting: promptSchema().meta({ description: 'Message d’accueil qui annonce les choix ; une touche pendant le message agit tout de suite.' }),
    time_condition: nameSchema('de la condition horaire').optional().meta({ description: 'Condition horaire qui choisit entre greeting (ouvert) et closed_greeting (fermé).' }),
    closed_greeting: promptSchema().optional().meta({ description: 'Message d’accueil en dehors des heures d’ouverture (avec time_condition).' }),
    options: z
      .record(
        z.string().regex(MENU_KEY, 'must be one key: 0-9, *, # or A-D'),
        z.union([z.enum(MENU_ACTIONS), destinationSchema()], { error: 'must be a destination number in quotes, or repeat, back or hangup' }),
      )
      .default({})
      .meta({
        description:
          'Touche → destination (numéro entre guillemets : poste, groupe, message, autre menu, numéro extérieur soumis à la classe permission) ou action : repeat (réécouter), back (menu précédent), hangup (raccrocher).',
      }),
    direct_dial: z.boolean().default(true).meta({ description: 'Permettre de composer directement un numéro interne pendant le menu.' }),
    timeout: z.int().min(1).max(60).default(5).meta({ description: 'Secondes d’attente d’une touche après le message d’accueil.' }),
    inter_digit_timeout: z.int().min(1).max(10).default(2).meta({ description: 'Secondes d’attente entre deux chiffres d’un numéro composé directement.' }),
    max_retries: z.int().min(0).max(10).default(3).meta({ description: 'Erreurs tolérées (pas de touche, touche inconnue) avant on_failure.' }),
    invalid_prompt: promptSchema().optional().meta({ description: 'Message joué après une touche inconnue, avant de réécouter l’accueil.' }),
    timeout_prompt: promptSchema().optional().meta({ description: 'Message joué quand aucune touche n’arrive, avant de réécouter l’accueil.' }),
    on_failure: destinationSchema().optional().meta({ description: 'Destination après max_retries erreurs ; sans elle, voix raccroche.' }),
    permission: z.string().min(1).default('internal').meta({ description: 'Classe de droits des numéros extérieurs auxquels mène le menu (internal : aucun).' }),
  })
  .superRefine((menu, ctx) => {
    if (menu.time_condition !== undefined && menu.closed_greeting === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'time_condition needs a closed_greeting' });
    if (menu.time_condition === undefined && menu.closed_greeting !== undefined) ctx.addIssue({ code: 'custom', path: ['closed_greeting'], message: 'only makes sense with time_condition' });
  }, always)
  .meta({ description: 'Un menu vocal (SVI) : voix décroche, annonce les choix et oriente l’appelant selon la touche tapée.' });

export const menusSchema = z.array(menuSchema).default([]).meta({ description: 'Menus vocaux (SVI), sur plusieurs niveaux si un choix mène à un autre menu.' });

export const trunksSchema = z.array(trunkSchema).default([]).meta({ description: 'Trunks SIP (opérateurs).' });
