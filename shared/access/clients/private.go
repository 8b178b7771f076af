package clients

import "github.com/tilgang/tilgang/shared/access"

// appointmentLevel is what an appointment assigns: the employee treats the client, so their own
// groups' level applies in full (the assignment's level only ever lowers it).
const appointmentLevel = access.LevelEdit
