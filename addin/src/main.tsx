import { FluentProvider, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { connectOffice } from './host/office.js';

// Render only once office.js has said which host (if any) the pane runs in.
const host = await connectOffice();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <FluentProvider theme={host.theme === 'dark' ? webDarkTheme : webLightTheme} style={{ height: '100vh' }}>
      <App host={host} />
    </FluentProvider>
  </StrictMode>,
);
