import { Caption1, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { SearchHit } from '@wa-bridge/shared/api/search';

const useStyles = makeStyles({
  match: { backgroundColor: tokens.colorPaletteYellowBackground2, color: tokens.colorNeutralForeground1, fontWeight: tokens.fontWeightSemibold },
  documents: { display: 'block', color: tokens.colorNeutralForeground2 },
});

/**
 * A search hit's snippet, the words that matched marked; in the text's own direction. When the
 * message carries documents whose text is searched with it, their names follow: the words may
 * be in one of them rather than in the message.
 */
export function SearchSnippet({ hit }: { hit: SearchHit }) {
  const styles = useStyles();
  return (
    <>
      <span className="snippet" dir="auto">
        {hit.snippet.map((part, index) =>
          part.match ? (
            <mark key={index} className={styles.match}>
              {part.text}
            </mark>
          ) : (
            <span key={index}>{part.text}</span>
          ),
        )}
      </span>
      {hit.documents.length > 0 && (
        <Caption1 className={mergeClasses(styles.documents, 'searched-documents')}>
          Searched with the text of <span dir="auto">{hit.documents.join(', ')}</span>
        </Caption1>
      )}
    </>
  );
}
