import { makeStyles, tokens } from '@fluentui/react-components';
import type { SearchHit } from '@wa-bridge/shared/api/search';

const useStyles = makeStyles({
  match: { backgroundColor: tokens.colorPaletteYellowBackground2, color: tokens.colorNeutralForeground1, fontWeight: tokens.fontWeightSemibold },
});

/** A search hit's snippet, the words that matched marked; in the text's own direction. */
export function SearchSnippet({ hit }: { hit: SearchHit }) {
  const styles = useStyles();
  return (
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
  );
}
