// Where the console finds the API and how it signs in. The dev server serves this file as it
// is; a deployment replaces it (see the README, "The admin console").
//   apiBase: the API's base URL without a trailing slash; '' when the console is served by
//            the same origin as the API.
//   signIn:  'dev'   - email sign-in through the dev server's POST /dev/token (local only);
//            'token' - paste an access token issued by the identity provider (Cognito).
'use strict';
window.TILGANG_CONSOLE = { apiBase: '', signIn: 'dev' };
