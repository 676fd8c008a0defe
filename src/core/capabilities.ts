/**
 * What voix's SIP core implements, as advertised in Allow/Supported/Accept
 * and enforced by the RFC 3261 §8.2 request checks.
 */
import type { UasCapabilities } from '../sip/request-checks.js';

export const VOIX_CAPABILITIES: UasCapabilities = {
  // INFO carries DTMF inside a call (application/dtmf-relay, application/dtmf) for voice menus.
  allowedMethods: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'UPDATE', 'INFO'],
  // RFC 3327 Path: voix stores it, so a proxy in front (Kamailio) can stay on the path.
  // RFC 4028 timer: session intervals are honoured and refreshed.
  supportedExtensions: ['path', 'timer'],
  acceptedBodyTypes: {
    INVITE: ['application/sdp'],
    ACK: ['application/sdp'],
    UPDATE: ['application/sdp'],
    INFO: ['application/dtmf-relay', 'application/dtmf'],
  },
  forwardedMethods: ['INVITE'],
};
