import { FluentProvider, teamsDarkTheme, teamsHighContrastTheme, teamsLightTheme } from '@fluentui/react-components';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectTeams } from './host/teams.js';

const host = await connectTeams();
const themes = { light: teamsLightTheme, dark: teamsDarkTheme, contrast: teamsHighContrastTheme };
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <FluentProvider theme={themes[host.theme]} style={{ minHeight: '100vh' }}>
      {host.kind}
    </FluentProvider>
  </StrictMode>,
);
