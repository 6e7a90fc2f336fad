import { FluentProvider, teamsDarkTheme, teamsHighContrastTheme, teamsLightTheme } from '@fluentui/react-components';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { connectTeams, type HostInfo, type TeamsTheme } from './host/teams.js';

const themes = { light: teamsLightTheme, dark: teamsDarkTheme, contrast: teamsHighContrastTheme };

/** Follows Teams' theme switches while the tab is open. */
function Root({ host }: { host: HostInfo }) {
  const [theme, setTheme] = useState<TeamsTheme>(host.theme);
  useEffect(() => {
    if (host.kind === 'teams') host.onThemeChange(setTheme);
  }, [host]);
  return (
    <FluentProvider theme={themes[theme]} style={{ height: '100vh' }}>
      <App host={host} />
    </FluentProvider>
  );
}

// Render only once teams-js has said whether the tab runs inside Teams.
const host = await connectTeams();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root host={host} />
  </StrictMode>,
);
