import { Body1Strong, Caption1, Link, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { SharedContactCard, SharedLocation } from '@wa-bridge/shared/api/conversations';

const useStyles = makeStyles({
  card: {
    display: 'flex',
    flexDirection: 'column',
    gap: '2px',
    minWidth: 0,
    maxWidth: '100%',
    boxSizing: 'border-box',
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    marginBottom: tokens.spacingVerticalXS,
    borderLeft: `3px solid ${tokens.colorBrandStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    // Long addresses, numbers and links wrap inside the narrow task pane instead of widening it.
    overflowWrap: 'anywhere',
    whiteSpace: 'normal',
  },
  kind: { color: tokens.colorNeutralForeground3 },
  address: { whiteSpace: 'pre-line' },
  line: { display: 'flex', flexWrap: 'wrap', alignItems: 'baseline', columnGap: tokens.spacingHorizontalXS, minWidth: 0 },
  type: { color: tokens.colorNeutralForeground3 },
});

/**
 * A location the client shared, as a card: its name and address as sent, the coordinates and a
 * link to the map the bridge built from them. A link the client attached is shown as text only:
 * anyone can type any link there, and a click would open it (the mirrored mail does the same).
 */
export function LocationCard({ location }: { location: SharedLocation }) {
  const styles = useStyles();
  return (
    <div role="group" aria-label={location.name ? `Location: ${location.name}` : 'Location'} className={mergeClasses(styles.card, 'shared-location')}>
      <Caption1 className={styles.kind}>Location</Caption1>
      {location.name && (
        <Body1Strong dir="auto" className="location-name">
          {location.name}
        </Body1Strong>
      )}
      {location.address && (
        <span dir="auto" className={mergeClasses(styles.address, 'location-address')}>
          {location.address}
        </span>
      )}
      {/* Numbers with minus signs stay in their order beside an Arabic or Hebrew name. */}
      <Caption1 dir="ltr" className="location-coordinates">
        {location.latitude}, {location.longitude}
      </Caption1>
      <div className={styles.line}>
        <Link href={location.mapUrl} target="_blank" rel="noopener noreferrer" className="location-map">
          Open map
        </Link>
      </div>
      {location.url && (
        <Caption1 className="client-url">
          Link sent: <span dir="ltr">{location.url}</span>
        </Caption1>
      )}
    </div>
  );
}

/** The contacts the client shared, a card each. */
export function ContactCards({ contacts }: { contacts: SharedContactCard[] }) {
  return (
    <>
      {contacts.map((contact, index) => (
        <ContactCard key={index} contact={contact} />
      ))}
    </>
  );
}

/**
 * One shared contact: name, organisation, and each phone and e-mail address as a link that calls
 * or writes to it. A link the card carries is shown as text only, like a location's.
 */
function ContactCard({ contact }: { contact: SharedContactCard }) {
  const styles = useStyles();
  return (
    <div role="group" aria-label={`Contact: ${contact.name}`} className={mergeClasses(styles.card, 'shared-contact')}>
      <Caption1 className={styles.kind}>Contact</Caption1>
      <Body1Strong dir="auto" className="contact-name">
        {contact.name}
      </Body1Strong>
      {contact.organisation && (
        <Caption1 dir="auto" className="contact-organisation">
          {contact.organisation}
        </Caption1>
      )}
      {contact.phones.map((phone, index) => (
        <Detail key={`phone-${index}`} href={telHref(phone.phone)} text={phone.phone} type={phone.type} className="contact-phone" />
      ))}
      {contact.emails.map((email, index) => (
        <Detail key={`email-${index}`} href={mailtoHref(email.email)} text={email.email} type={email.type} className="contact-email" />
      ))}
      {contact.urls.map((url, index) => (
        <Caption1 key={`url-${index}`} className="client-url">
          Link sent: <span dir="ltr">{url}</span>
        </Caption1>
      ))}
    </div>
  );
}

/** A phone number or address: a link when it makes a safe one, else the text as sent; its type beside it. */
function Detail({ href, text, type, className }: { href: string | null; text: string; type: string | null; className: string }) {
  const styles = useStyles();
  return (
    <div className={mergeClasses(styles.line, className)}>
      {href ? (
        <Link href={href} dir="ltr">
          {text}
        </Link>
      ) : (
        <span dir="ltr">{text}</span>
      )}
      {type && (
        <Caption1 dir="auto" className={styles.type}>
          {type.toLowerCase()}
        </Caption1>
      )}
    </div>
  );
}

/** A `tel:` link with the number's digits (and a leading +) only, or null when there are too few to dial. */
export function telHref(phone: string): string | null {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 3) return null;
  return `tel:${phone.trim().startsWith('+') ? '+' : ''}${digits}`;
}

// An address and nothing else: no characters that would add a subject, a body or more recipients.
const plainAddress = /^[\p{L}\p{N}._+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+$/u;

/** A `mailto:` link for a plain address, or null for anything else (shown as text). */
export function mailtoHref(email: string): string | null {
  const address = email.trim();
  return plainAddress.test(address) ? `mailto:${address}` : null;
}
