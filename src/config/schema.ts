/**
 * The voix configuration file as a zod schema: the one source for validation,
 * defaults and the JSON Schema that editors use
 * (schema/voix-config.schema.json, written by scripts/generate-config-schema.ts).
 * Keys are snake_case as written in YAML; load.ts maps the result to VoixConfig.
 *
 * Descriptions are French (they are user documentation shown in editors);
 * error messages are English (CLI output) and never repeat a value, so a
 * password or an HA1 cannot leak into a log.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  groupsSchema,
  inboundRoutesSchema,
  menusSchema,
  messagesSchema,
  numberingPlanSchema,
  outboundRoutesSchema,
  permissionClassesSchema,
  timeConditionsSchema,
  trunksSchema,
  userDialplanFields,
} from './schema-dialplan.js';
import { campaignsSchema } from './schema-campaigns.js';

export const TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export const DIGEST_ALGORITHMS = ['SHA-256', 'MD5'] as const;
export const SRTP_POLICIES = ['required', 'optional', 'off'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const MIN_PASSWORD_LENGTH = 12;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function isHostOrIp(value: string): boolean {
  return isIP(value) !== 0 || HOSTNAME.test(value);
}

function hasNoRepeats(values: readonly unknown[]): boolean {
  return new Set(values).size === values.length;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Cross-field checks run even when a sibling field has an error, so one pass reports everything. */
const always = { when: (payload: { value: unknown }) => isRecord(payload.value) };
const alwaysForLists = { when: (payload: { value: unknown }) => Array.isArray(payload.value) };

const host = () => z.string().refine(isHostOrIp, 'must be a host name or an IP address');
const ipAddress = () =>
  z.string().refine((v) => isIP(v) !== 0, 'must be an IP address (0.0.0.0 or :: for every interface)');
const port = () => z.int().min(1).max(65_535);
const filePath = () => z.string().min(1);

function endpointSchema(defaultPort: number, transport: string) {
  return z
    .union(
      [
        z.literal(false),
        z.strictObject({
          address: ipAddress().default('0.0.0.0').meta({ description: "Adresse IP d'écoute (0.0.0.0 : toutes les interfaces IPv4, :: : IPv6)." }),
          port: port().default(defaultPort).meta({ description: `Port ${transport.toUpperCase()}.` }),
        }),
      ],
      { error: 'must be false (disabled) or a mapping with address and port' },
    )
    .prefault({})
    .meta({ description: `Écoute ${transport.toUpperCase()} : un objet { address, port }, ou false pour désactiver ce transport.` });
}

const tlsEndpointSchema = z
  .union(
    [
      z.literal(false),
      z
        .strictObject({
          address: ipAddress().default('0.0.0.0').meta({ description: "Adresse IP d'écoute (0.0.0.0 : toutes les interfaces IPv4, :: : IPv6)." }),
          port: port().default(5061).meta({ description: 'Port TLS.' }),
          certificate: filePath()
            .optional()
            .meta({ description: 'Certificat du serveur (PEM, chaîne complète). Chemin relatif : relatif au dossier de ce fichier. Avec key, ou ni l’un ni l’autre.' }),
          key: filePath()
            .optional()
            .meta({ description: 'Clé privée du certificat (PEM). Sans certificate ni key, voix crée une autorité locale et un certificat dans data_dir/tls.' }),
        })
        .superRefine((tls, ctx) => {
          const hasCert = tls.certificate !== undefined;
          const hasKey = tls.key !== undefined;
          if (hasCert && !hasKey) {
            ctx.addIssue({ code: 'custom', path: ['key'], message: 'is required when certificate is given (or remove both and voix generates a certificate)' });
          } else if (hasKey && !hasCert) {
            ctx.addIssue({ code: 'custom', path: ['certificate'], message: 'is required when key is given (or remove both and voix generates a certificate)' });
          }
        }, always),
    ],
    { error: 'must be false (disabled) or a mapping with address, port, and optionally certificate and key' },
  )
  .prefault({})
  .meta({ description: 'Écoute TLS (SIPS) : un objet, ou false pour désactiver TLS.' });

const listenSchema = z
  .strictObject({
    udp: endpointSchema(5060, 'udp'),
    tcp: endpointSchema(5060, 'tcp'),
    tls: tlsEndpointSchema,
  })
  .superRefine((listen, ctx) => {
    if (listen.udp === false && listen.tcp === false && listen.tls === false) {
      ctx.addIssue({ code: 'custom', path: [], message: 'at least one transport must be enabled' });
    }
  }, always)
  .prefault({})
  .meta({ description: 'Transports SIP sur lesquels voix écoute. Par défaut : UDP et TCP 5060, TLS 5061, sur toutes les interfaces.' });

const serverSchema = z
  .strictObject({
    domain: host().meta({
      description: 'Domaine SIP (obligatoire), par exemple voix.example.com. Sert aussi de realm pour l’authentification si realm est absent.',
    }),
    realm: z
      .string()
      .min(1)
      .regex(/^[^"\\\r\n]+$/, 'must not contain quotes, backslashes or line breaks')
      .optional()
      .meta({ description: 'Realm de l’authentification digest. Par défaut : le domaine. Le changer invalide les ha1_* enregistrés.' }),
    aliases: z
      .array(host())
      .default([])
      .meta({ description: 'Autres noms ou adresses IP acceptés comme étant ce serveur dans les Request-URI.' }),
    public_address: host()
      .optional()
      .meta({ description: 'Adresse publique annoncée dans Via et Contact quand le serveur est derrière un NAT.' }),
    data_dir: filePath()
      .default('/var/lib/voix')
      .meta({ description: 'Dossier des données (base SQLite, certificats générés). Chemin relatif : relatif au dossier de ce fichier.' }),
    log_level: z.enum(LOG_LEVELS).default('info').meta({ description: 'Niveau de journalisation : debug, info, warn ou error.' }),
    shutdown_grace: z
      .int()
      .min(1)
      .max(3600)
      .default(30)
      .meta({
        description:
          'Délai d’arrêt sur SIGTERM (secondes) : voix répond 503 aux nouvelles requêtes, raccroche les appels en cours par BYE, écrit leurs CDR, attend les réponses puis s’arrête ; passé ce délai il sort quand même (code 1). Prévoir TimeoutStopSec plus long dans l’unité systemd.',
      }),
    listen: listenSchema,
  })
  .meta({ description: 'Identité du serveur, réseau et fichiers.' });

const registrarSchema = z
  .strictObject({
    min_expires: z
      .int()
      .min(1)
      .max(86_400)
      .default(60)
      .meta({ description: 'Durée d’enregistrement minimale (secondes). En dessous, voix répond 423 Interval Too Brief.' }),
    max_expires: z
      .int()
      .min(1)
      .max(604_800)
      .default(3600)
      .meta({ description: 'Durée d’enregistrement maximale (secondes) : une demande plus longue est ramenée à cette valeur.' }),
    default_expires: z
      .int()
      .min(1)
      .max(604_800)
      .default(3600)
      .meta({ description: 'Durée accordée quand le téléphone n’en demande pas (secondes).' }),
  })
  .superRefine((registrar, ctx) => {
    // RFC 3261 §10.3: the registrar may shorten an expiry but must refuse one below its minimum.
    const { min_expires: min, max_expires: max, default_expires: def } = registrar;
    const isNum = (v: unknown): v is number => typeof v === 'number';
    if (isNum(min) && isNum(max) && min > max) {
      ctx.addIssue({ code: 'custom', path: ['min_expires'], message: `must not exceed max_expires (${min} > ${max})` });
      return;
    }
    if (isNum(min) && isNum(def) && def < min) {
      ctx.addIssue({ code: 'custom', path: ['default_expires'], message: `must be at least min_expires (${def} < ${min})` });
    }
    if (isNum(max) && isNum(def) && def > max) {
      ctx.addIssue({ code: 'custom', path: ['default_expires'], message: `must not exceed max_expires (${def} > ${max})` });
    }
  }, always)
  .prefault({})
  .meta({ description: 'Enregistrement des téléphones (REGISTER). Il faut min_expires ≤ default_expires ≤ max_expires.' });

const authSchema = z
  .strictObject({
    algorithms: z
      .array(z.enum(DIGEST_ALGORITHMS))
      .min(1)
      .refine(hasNoRepeats, 'must not list an algorithm twice')
      .default(['SHA-256', 'MD5'])
      .meta({ uniqueItems: true, description: 'Algorithmes digest proposés, le préféré en premier : SHA-256 et/ou MD5 (beaucoup de téléphones ne savent que MD5).' }),
    nonce_lifetime: z
      .int()
      .min(10)
      .max(86_400)
      .default(300)
      .meta({ description: 'Durée de validité d’un nonce (secondes).' }),
    md5_only_user_agents: z
      .array(z.string().min(1))
      .default(['baresip v0.', 'baresip v1.'])
      .meta({
        description:
          'Débuts d’en-tête User-Agent des téléphones qui échouent dès qu’un défi SHA-256 leur est proposé (baresip 1.0 de Debian 12) : ils reçoivent un défi MD5 seul, si MD5 fait partie des algorithmes.',
      }),
  })
  .prefault({})
  .meta({ description: 'Authentification digest (RFC 7616).' });

const userSchema = z
  .strictObject({
    extension: z
      .string({ error: (iss) => (iss.input === undefined ? undefined : 'must be a quoted string of 2 to 10 digits, like "1001"') })
      .regex(/^\d{2,10}$/, 'must be 2 to 10 digits')
      .meta({ description: 'Numéro interne : 2 à 10 chiffres, entre guillemets ("1001"), unique. Sert aussi de nom d’utilisateur SIP.' }),
    name: z.string().min(1).max(80).optional().meta({ description: 'Nom affiché (display name), par exemple Alice Martin.' }),
    password: z
      .string({ error: (iss) => (iss.input === undefined ? undefined : 'must be a string (put it in quotes)') })
      .min(MIN_PASSWORD_LENGTH, {
        error: `is too weak: use at least ${MIN_PASSWORD_LENGTH} characters, or store ha1_md5/ha1_sha256 instead of a password`,
      })
      .optional()
      .meta({ description: `Mot de passe SIP, au moins ${MIN_PASSWORD_LENGTH} caractères. Préférez ha1_md5 / ha1_sha256 pour ne pas le garder en clair.` }),
    ha1_md5: z
      .string()
      .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hexadecimal digits: MD5 of "extension:realm:password"')
      .optional()
      .meta({ description: 'Empreinte HA1 MD5 = MD5("extension:realm:motdepasse"), 32 chiffres hexadécimaux. Remplace password.' }),
    ha1_sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits: SHA-256 of "extension:realm:password"')
      .optional()
      .meta({ description: 'Empreinte HA1 SHA-256 = SHA-256("extension:realm:motdepasse"), 64 chiffres hexadécimaux. Remplace password.' }),
    transports: z
      .array(z.enum(TRANSPORTS))
      .min(1)
      .refine(hasNoRepeats, 'must not list a transport twice')
      .default(['tls'])
      .meta({ uniqueItems: true, description: 'Transports autorisés pour ce compte parmi udp, tcp, tls. Par défaut : [tls] seulement (sécurisé).' }),
    max_contacts: z
      .int()
      .min(1)
      .max(20)
      .default(3)
      .meta({ description: 'Nombre d’appareils enregistrés en même temps (1 à 20).' }),
    srtp: z
      .enum(SRTP_POLICIES)
      .optional()
      .meta({
        description:
          'Chiffrement des médias (SRTP, clés SDES) vers ce compte : required (un appel sans SRTP utilisable est refusé en 488), optional (SRTP si le téléphone le propose), off. Par défaut : required pour un compte TLS seulement, optional sinon.',
      }),
    ...userDialplanFields,
  })
  .superRefine((user, ctx) => {
    const hasPassword = user.password !== undefined;
    const hasHa1 = user.ha1_md5 !== undefined || user.ha1_sha256 !== undefined;
    if (hasPassword && hasHa1) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give either password or ha1_md5/ha1_sha256, not both' });
    } else if (!hasPassword && !hasHa1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs a password or ha1_md5/ha1_sha256' });
    }
  }, always)
  .meta({ description: 'Un compte SIP : numéro, nom, et mot de passe ou empreintes HA1.' });

const usersSchema = z
  .array(userSchema)
  .superRefine((users, ctx) => {
    const firstIndex = new Map<string, number>();
    users.forEach((user: unknown, index) => {
      if (!isRecord(user) || typeof user['extension'] !== 'string') return;
      const extension = user['extension'];
      const first = firstIndex.get(extension);
      if (first === undefined) {
        firstIndex.set(extension, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: [index, 'extension'],
        message: `duplicate extension "${extension}"`,
        params: { firstDefinedAt: [first, 'extension'] },
      });
    });
  }, alwaysForLists)
  .default([])
  .meta({ description: 'Comptes SIP (postes). Chaque numéro doit être unique.' });

const mediaSchema = z
  .strictObject({
    address: z.string().min(1).default('0.0.0.0').meta({ description: 'Adresse locale des sockets RTP (0.0.0.0 : toutes les interfaces).' }),
    public_address: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Adresse écrite dans le SDP pour les médias (derrière un NAT). Par défaut : server.public_address, sinon l’adresse annoncée en SIP.' }),
    port_min: z.int().min(1024).max(65534).default(10000).meta({ description: 'Premier port RTP (pair).' }),
    port_max: z.int().min(1025).max(65535).default(20000).meta({ description: 'Dernier port RTP. Chaque appel relayé utilise 4 ports.' }),
    workers: z
      .int()
      .min(0)
      .max(64)
      .default(0)
      .meta({ description: 'Nombre de threads média ; 0 : un par cœur du processeur.' }),
  })
  .superRefine((media, ctx) => {
    const min: unknown = media.port_min;
    const max: unknown = media.port_max;
    if (typeof min === 'number' && typeof max === 'number' && max - min < 3) {
      ctx.addIssue({ code: 'custom', path: ['port_max'], message: `must leave room for at least one call above port_min (${min})` });
    }
  }, always)
  .prefault({})
  .meta({ description: 'Relais des médias (RTP/SRTP) : ports et threads.' });

const callsSchema = z
  .strictObject({
    ring_timeout: z.int().min(5).max(600).default(60).meta({ description: 'Durée de sonnerie avant abandon (secondes) ; l’appelant reçoit alors 480.' }),
    session_expires: z
      .int()
      .min(90)
      .max(86_400)
      .default(1800)
      .meta({ description: 'Intervalle de rafraîchissement de session demandé (RFC 4028, secondes).' }),
    min_se: z
      .int()
      .min(90)
      .max(86_400)
      .default(90)
      .meta({ description: 'Intervalle minimal accepté (Min-SE) ; en dessous, voix répond 422.' }),
  })
  .superRefine((calls, ctx) => {
    const se: unknown = calls.session_expires;
    const min: unknown = calls.min_se;
    if (typeof se === 'number' && typeof min === 'number' && se < min) {
      ctx.addIssue({ code: 'custom', path: ['session_expires'], message: `must be at least min_se (${se} < ${min})` });
    }
  }, always)
  .prefault({})
  .meta({ description: 'Appels : sonnerie et minuteries de session.' });

const securitySchema = z
  .strictObject({
    ban: z
      .strictObject({
        max_failures: z
          .int()
          .min(1)
          .max(1000)
          .default(5)
          .meta({ description: 'Nombre d’échecs d’authentification, depuis une même adresse, qui déclenche un bannissement.' }),
        window: z.int().min(1).max(86_400).default(60).meta({ description: 'Fenêtre de comptage des échecs (secondes).' }),
        duration: z.int().min(1).max(2_592_000).default(900).meta({ description: 'Durée du bannissement (secondes).' }),
      })
      .prefault({})
      .meta({ description: 'Bannissement temporaire des adresses qui échouent trop souvent à s’authentifier.' }),
    sdes_over_plaintext: z
      .boolean()
      .default(false)
      .meta({
        description:
          'Autoriser l’envoi de clés SRTP (SDES, a=crypto) sur une signalisation non chiffrée (UDP/TCP). Déconseillé : n’importe qui sur le chemin lirait les clés.',
      }),
  })
  .prefault({})
  .meta({ description: 'Protection contre les attaques par force brute.' });

const overloadSchema = z
  .strictObject({
    max_event_loop_lag: z
      .int()
      .min(0)
      .max(10_000)
      .default(100)
      .meta({
        description:
          'Retard lissé de la boucle d’événements (millisecondes) au-delà duquel les nouvelles requêtes hors dialogue reçoivent 503 avec Retry-After ; 0 : critère désactivé. Bien en dessous de T1 (500 ms), au-delà duquel les téléphones retransmettent.',
      }),
    max_transactions: z
      .int()
      .min(0)
      .max(1_000_000)
      .default(2000)
      .meta({ description: 'Requêtes reçues encore sans réponse finale (appels qui sonnent compris) à partir desquelles les nouvelles reçoivent 503 ; 0 : critère désactivé.' }),
    max_requests_per_second: z
      .int()
      .min(0)
      .max(1_000_000)
      .default(0)
      .meta({
        description:
          'Plafond de nouvelles requêtes hors dialogue par seconde (une seconde de rafale), au-delà : 503 ; 0 (par défaut) : pas de plafond fixe, la charge est jugée sur les deux critères précédents.',
      }),
    retry_after: z.int().min(1).max(3600).default(5).meta({ description: 'Valeur de Retry-After des réponses 503 (secondes).' }),
  })
  .prefault({})
  .meta({
    description:
      'Protection contre la surcharge : au-delà d’une charge, les nouvelles requêtes hors dialogue (REGISTER, INVITE, OPTIONS…) reçoivent 503 Service Unavailable avec Retry-After ; les requêtes des appels en cours (BYE, re-INVITE), CANCEL et ACK passent toujours.',
  });

const limitsSchema = z
  .strictObject({
    max_message_size: z
      .int()
      .min(1500)
      .max(1_048_576)
      .default(65_535)
      .meta({ description: 'Taille maximale d’un message SIP, en-têtes et corps (octets). Au-delà : 513 Message Too Large, et la connexion TCP/TLS est fermée.' }),
    max_headers: z
      .int()
      .min(16)
      .max(1000)
      .default(100)
      .meta({ description: 'Nombre maximal de lignes d’en-tête d’un message SIP. Au-delà : 400 et message ignoré.' }),
    max_connections_per_address: z
      .int()
      .min(1)
      .max(100_000)
      .default(64)
      .meta({
        description:
          'Connexions TCP et TLS simultanées depuis une même adresse IP (poignées de main TLS en cours comprises). Un bureau derrière un NAT en ouvre une par téléphone : prévoir le nombre de téléphones.',
      }),
    max_connections: z
      .int()
      .min(1)
      .max(1_000_000)
      .default(4096)
      .meta({ description: 'Connexions TCP et TLS simultanées en tout, par transport.' }),
    idle_timeout: z
      .int()
      .min(10)
      .max(86_400)
      .default(3900)
      .meta({
        description:
          'Durée sans aucun trafic (secondes) après laquelle une connexion TCP/TLS est fermée. Plus longue que registrar.max_expires, pour qu’un téléphone enregistré sans keep-alive reste joignable.',
      }),
    first_message_timeout: z
      .int()
      .min(1)
      .max(3600)
      .default(10)
      .meta({ description: 'Délai (secondes) pour qu’une nouvelle connexion TCP/TLS termine sa poignée de main TLS et envoie un premier message SIP complet ; sinon elle est fermée.' }),
  })
  .prefault({})
  .meta({ description: 'Limites de la signalisation SIP contre les messages et connexions abusifs.' });

const adminSchema = z
  .strictObject({
    listen: z
      .union(
        [
          z.literal(false),
          z.strictObject({
            address: ipAddress().default('127.0.0.1').meta({ description: 'Adresse d’écoute ; 127.0.0.1 par défaut (la machine seule : l’API ne demande pas de mot de passe).' }),
            port: port().default(8088).meta({ description: 'Port HTTP.' }),
          }),
        ],
        { error: 'must be false (disabled) or a mapping with address and port' },
      )
      .default(false)
      .meta({ description: 'Écoute HTTP de l’API d’administration (lecture seule, JSON) : { address, port }, ou false (par défaut) pour la désactiver.' }),
  })
  .prefault({})
  .meta({ description: 'API HTTP d’administration : état de santé, métriques Prometheus (/metrics), état en direct (/api/status), avancement des campagnes en JSON.' });

export const configSchema = z
  .strictObject({
    server: serverSchema,
    registrar: registrarSchema,
    auth: authSchema,
    users: usersSchema,
    media: mediaSchema,
    calls: callsSchema,
    security: securitySchema,
    admin: adminSchema,
    overload: overloadSchema,
    limits: limitsSchema,
    permission_classes: permissionClassesSchema,
    numbering_plan: numberingPlanSchema,
    groups: groupsSchema,
    messages: messagesSchema,
    menus: menusSchema,
    time_conditions: timeConditionsSchema,
    inbound_routes: inboundRoutesSchema,
    outbound_routes: outboundRoutesSchema,
    trunks: trunksSchema,
    campaigns: campaignsSchema,
  })
  .superRefine((config, ctx) => {
    // A user whose only hash is for an algorithm voix does not offer could never authenticate.
    const auth: unknown = config.auth;
    const users: unknown = config.users;
    if (!isRecord(auth) || !Array.isArray(users)) return;
    const algorithms: unknown = auth['algorithms'];
    // An invalid list is reported on its own; judging users against it would only add noise.
    const known = new Set<unknown>(DIGEST_ALGORITHMS);
    if (!Array.isArray(algorithms) || !algorithms.every((a) => known.has(a))) return;
    const offered = new Set<unknown>(algorithms);
    users.forEach((user: unknown, index) => {
      if (!isRecord(user) || user['password'] !== undefined) return;
      const md5 = user['ha1_md5'] !== undefined;
      const sha256 = user['ha1_sha256'] !== undefined;
      if (md5 && !sha256 && !offered.has('MD5')) {
        ctx.addIssue({ code: 'custom', path: ['users', index, 'ha1_md5'], message: 'is useless because auth.algorithms does not offer MD5: add ha1_sha256 or offer MD5' });
      } else if (sha256 && !md5 && !offered.has('SHA-256')) {
        ctx.addIssue({ code: 'custom', path: ['users', index, 'ha1_sha256'], message: 'is useless because auth.algorithms does not offer SHA-256: add ha1_md5 or offer SHA-256' });
      }
    });
  }, always)
  .meta({
    title: 'Configuration de voix',
    description: 'Fichier de configuration du commutateur SIP voix (un seul fichier YAML).',
  });

export type RawConfig = z.output<typeof configSchema>;
export type RawConfigInput = z.input<typeof configSchema>;

function describeKind(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
};

/**
 * English messages for the issues zod raises itself; the messages given in
 * the schema win over these. Only the kind of a wrong value is named, never
 * the value.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'int' && typeof issue.input === 'number') return 'must be a whole number';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected}, not ${describeKind(issue.input)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return `must be at least ${min} character${min === 1 ? '' : 's'} long`;
      if (issue.origin === 'array') return min === 1 ? 'must not be empty' : `must have at least ${min} items`;
      return `must be at least ${issue.inclusive ? min : `more than ${min}`}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array') return `must have at most ${max} items`;
      return `must be at most ${max}`;
    }
    case 'invalid_value':
      return `must be one of: ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      return 'has an invalid format';
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return undefined;
  }
};

type Unwrappable = { unwrap(): z.ZodType };

function unwrapToObject(schema: z.ZodType): z.ZodObject | null {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 16; depth++) {
    if (current instanceof z.ZodObject) return current;
    if (current instanceof z.ZodUnion) {
      const object = current.options.find((o): o is z.ZodObject => o instanceof z.ZodObject);
      return object ?? null;
    }
    if (current instanceof z.ZodArray) {
      current = current.element as z.ZodType;
      continue;
    }
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodOptional) {
      current = (current as unknown as Unwrappable).unwrap();
      continue;
    }
    return null;
  }
  return null;
}

/** The keys the schema allows in the mapping at `path` (array indexes are skipped), for "did you mean" hints. */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let object = unwrapToObject(configSchema);
  for (const segment of path) {
    if (object === null) return [];
    if (typeof segment !== 'string') continue;
    const child: unknown = object.shape[segment];
    object = child instanceof z.ZodType ? unwrapToObject(child) : null;
  }
  return object === null ? [] : Object.keys(object.shape);
}

/** The JSON Schema text committed as schema/voix-config.schema.json. */
export function renderConfigJsonSchema(): string {
  const jsonSchema = z.toJSONSchema(configSchema, { target: 'draft-07', io: 'input' });
  return `${JSON.stringify(jsonSchema, null, 2)}\n`;
}
