/**
 * What voix's SIP core implements, as advertised in Allow/Supported/Accept
 * and enforced by the RFC 3261 §8.2 request checks.
 */
import type { UasCapabilities } from '../sip/request-checks.js';

export const VOIX_CAPABILITIES: UasCapabilities = {
  allowedMethods: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER'],
  // RFC 3327 Path: voix stores it, so a proxy in front (Kamailio) can stay on the path.
  supportedExtensions: ['path'],
  acceptedBodyTypes: {
    INVITE: ['application/sdp'],
    ACK: ['application/sdp'],
  },
  forwardedMethods: ['INVITE'],
};
