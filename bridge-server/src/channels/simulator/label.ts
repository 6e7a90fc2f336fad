/** Said on every answer (X-Simulator header) and by `GET /`: nobody should mistake this for Meta. */
export const simulatorLabel = 'wa-bridge Cloud API simulator - a local test double of the WhatsApp Cloud API, not Meta';
