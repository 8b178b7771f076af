package access

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file is the policy core: one pure decision function, Decide, that every route, every job
// item, the capability matrix and POST /v1/authorize ask. It does no I/O: the caller loads the
// principal (one read per request) and the facts a question needs, and Decide answers with the
// reasons. What a right needs is data (the ops table below); the "nobody may" rules are named
// guards in the same table.

// Principal is who asks, as the request's one read loaded them.
type Principal struct {
	User      User
	Effective Effective
	// Now is the instant of the decision: an assignment, grant or administration whose
	// ExpiresAt is not after it gives nothing (a zero Now counts every expiring one as expired).
	Now time.Time
}

// Op is an operation the policy decides.
type Op string

// Operations. OpAccess is the question of POST /v1/authorize: an action (Request.Level) on an
// area, optionally on one client (and one of its programs) or one calendar.
const (
	OpAccess             Op = "access"
	OpReadUser           Op = "user.read"
	OpListUsers          Op = "users.list"
	OpManageUsers        Op = "users.manage" // create users and groups
	OpChangeUser         Op = "user.change"  // another user's profile or status
	OpDeleteUser         Op = "user.delete"
	OpChangeRights       Op = "user.rights" // groups, roles, calendar access, profession, own calendars
	OpGrantRole          Op = "user.role"   // give or take Request.Role
	OpEditGroup          Op = "group.edit"
	OpRemoveUser         Op = "user.remove" // to the user bank and back
	OpAnonymise          Op = "user.anonymise"
	OpReadUserBank       Op = "userbank.read"
	OpManageLinks        Op = "links.manage"
	OpReadLinks          Op = "links.read"
	OpReadSettings       Op = "settings.read"
	OpEditSettings       Op = "settings.edit"
	OpActivateApps       Op = "apps.activate"
	OpTransferOwnership  Op = "ownership.transfer"
	OpReadAudit          Op = "audit.read"
	OpListClients        Op = "clients.list"
	OpCreateClient       Op = "client.create"
	OpManageAssignments  Op = "client.assignments"
	OpAssignAt           Op = "client.assign_level" // hand out Request.Level on clients
	OpReadClientAccess   Op = "client.access.read"
	OpManageClientAdmins Op = "client.admins"
	OpReadClientAdmins   Op = "client.admins.read"
	OpSubmitJobs         Op = "jobs.submit"
	OpReadJob            Op = "job.read" // Request.Target is the requester
	OpGrantProgram       Op = "client.program"
	OpRevokeClient       Op = "client.revoke"
	OpAppointment        Op = "appointment"
	OpMigrateLegacy      Op = "user.legacy" // create users with individual rights from before groups

	OpManageReviews Op = "reviews.manage" // start access reviews
	OpReadReview    Op = "review.read"    // Request.Review
	OpDecideReview  Op = "review.decide"  // Request.Review; Request.Target is whose access is decided
	OpListCalendars Op = "calendars.list" // every calendar of the tenant (others see those they may view)
	OpEditCalendar  Op = "calendar.edit"  // a calendar's name; a new owner also takes OpChangeRights on both users
	OpExportUser    Op = "user.export"    // everything held about a person (GDPR Art. 15)
	// Provisioning (SCIM): see provisioning.go.
	OpManageProvisioning  Op = "provisioning.manage"     // create, list and revoke SCIM tokens
	OpProvisionUser       Op = "user.provision"          // the directory creates, changes or re-activates a user
	OpDeprovisionUser     Op = "user.deprovision"        // the directory deactivates or removes a user
	OpProvisionGroup      Op = "group.provision"         // the directory creates, renames or deletes a group (Request.Group)
	OpProvisionMembership Op = "group.members.provision" // the directory puts Target in Group or takes them out
)

// Request is one question to the policy. Only the fields an Op reads matter.
type Request struct {
	Op         Op
	Level      Level // OpAccess: the action; OpAssignAt: the level handed out
	Area       Area
	Target     *User  // the user acted on
	Group      *Group // the group acted on
	Role       Role   // OpGrantRole
	Client     *ClientFacts
	CalendarID string
	// Calendar is the calendar asked about, when it was read (its practice counts).
	Calendar *Calendar
	Program  string
	// Source is how an appointment or client comes in (OpAppointment, OpCreateClient):
	// "manual", "online_booking" or "signup".
	Source string
	// Review is the access review asked about (OpReadReview, OpDecideReview).
	Review *AccessReview
	// Directory says that Group is managed by the tenant's directory (provisioning ops).
	Directory bool
}

// ClientFacts is what the policy needs to know about one client: the client, the user's
// assignment, their bureau grant, and the principal's administration there (job items and the
// client-administration routes).
type ClientFacts struct {
	Client     Client
	Assignment *Assignment
	Grant      *ClientGrant
	Admin      *ClientAdmin
	// Expired says what Decide left out because it had expired (set by Decide, for reasons).
	Expired []string
}

// Outcome codes a decision may carry besides forbidden: a job item reports them as outcomes.
const (
	CodeNotAConsultant Code = "not_a_consultant"
	CodeInactive       Code = "inactive"
)

// Decision is the policy's answer: allowed or not, the level that counted, and why, in words
// (Reason) and as data (Sources: every source that counted).
type Decision struct {
	Allowed bool
	Level   Level
	Sources []Source
	// Code and Field say how a refusal surfaces: CodeForbidden unless a guard says otherwise
	// (CodeConflict for a state that forbids it, CodeNotFound where existence must not leak).
	Code  Code
	Field string
	// reason is why, put in words by Reason when asked.
	reason reason
}

// Reason is why, in words. They are built on each call, from what the decision was made on:
// ask once and keep the string.
func (d Decision) Reason() string { return d.reason.words() }

// Err is the error a refused decision surfaces as; nil when allowed.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	if d.Code == CodeNotFound {
		return &Error{Code: CodeNotFound, Message: d.Reason()}
	}
	code := d.Code
	if code == "" || code == CodeNotAConsultant || code == CodeInactive {
		code = CodeForbidden
	}
	return &Error{Code: code, Field: d.Field, Message: d.Reason()}
}

// need is one way to satisfy a rule: a level on an area (with scope all when all is set), or a
// capability.
type need struct {
	area  Area
	level Level
	all   bool
	cap   Privilege
	// words is String's text, worded once for the needs of the ops table.
	words string
}

func (n need) String() string {
	if n.words != "" {
		return n.words
	}
	if n.cap != "" {
		return "the " + string(n.cap) + " capability"
	}
	s := fmt.Sprintf("%s on %s", n.level, n.area)
	if n.all {
		s += " with scope all"
	}
	return s
}

// guard is a "nobody may" rule: when applies says so, the request is refused whatever rights the
// principal has.
type guard struct {
	name    string
	code    Code
	message string
	applies func(p Principal, r Request) bool
}

// rule is what one operation needs: any one of needs (the owner has every need), unless self
// allows acting on oneself; the guards are checked first.
type rule struct {
	what   string
	needs  []need
	self   bool
	guards []guard
	// custom decides operations whose right is not an area or capability (client
	// administration, program grants, appointments); it runs after the guards.
	custom func(p Principal, r Request) Decision
	// hidden answers a refusal with not found: users one may not read do not exist for one.
	hidden string
	// refusal is the reason of a refusal for want of needs ("what needs ..."), worded once.
	refusal string
}

func isSelf(p Principal, r Request) bool      { return r.Target != nil && r.Target.ID == p.User.ID }
func isAdmin(u *User) bool                    { return u != nil && (u.HasRole(RoleAdmin) || u.HasRole(RoleMainAdmin)) }
func targetOwner(_ Principal, r Request) bool { return r.Target != nil && r.Target.IsOwner }

// The guards: every "nobody may" rule of the product, by name.
var (
	gNotOwnRights     = guard{"not_own_rights", CodeForbidden, "nobody can change their own rights", isSelf}
	gNotOwnersRights  = guard{"not_owners_rights", CodeForbidden, "nobody can change the account owner's rights", targetOwner}
	gOnlyOwnerOnOwner = guard{"only_owner_on_owner", CodeForbidden, "only the account owner can change the account owner",
		func(p Principal, r Request) bool { return targetOwner(p, r) && !p.User.IsOwner }}
	gAdminPeer = guard{"admin_peer", CodeForbidden, "only a main administrator or the account owner manages administrators",
		func(p Principal, r Request) bool {
			return !isSelf(p, r) && isAdmin(r.Target) && !p.Effective.Has(PrivManageAdmins)
		}}
	gNotMember = guard{"not_member", CodeForbidden, "nobody can change their own rights: you are a member of this group",
		func(p Principal, r Request) bool {
			return r.Group != nil && !p.User.IsOwner && p.User.InGroup(r.Group.ID)
		}}
	gBankNotOwner       = guard{"bank_not_owner", CodeConflict, "the account owner cannot be removed or anonymised; transfer ownership first", targetOwner}
	gBankNotSelf        = guard{"bank_not_self", CodeConflict, "you cannot remove, restore or anonymise yourself", isSelf}
	gNotOwnAssignments  = guard{"not_own_assignments", CodeForbidden, "nobody can change their own client assignments", isSelf}
	gNotOwnClientAdmin  = guard{"not_own_client_admin", CodeForbidden, "nobody can change their own client administration", isSelf}
	gOwnerIsClientAdmin = guard{"owner_is_client_admin", CodeConflict, "the account owner is system administrator of every client, which keeps every client with at least one system administrator", targetOwner}
	gNotSelfAppointment = guard{"not_self_appointment", CodeForbidden, "nobody can assign clients to themselves, appointments included",
		func(p Principal, r Request) bool { return isSelf(p, r) && !p.User.IsOwner }}
	gNotSelfGrant    = guard{"not_self_grant", CodeForbidden, "nobody grants themselves client access or programs", isSelf}
	gRequesterActive = guard{"requester_active", CodeForbidden, "the requester is no longer an active user",
		func(p Principal, _ Request) bool { return p.User.ID == "" || p.User.Status != StatusActive }}
	// Provisioning: the directory never reaches the owner (who does not exist for it), never
	// changes an administrator but to deactivate or remove them, only manages the groups it
	// created, and never creates a group with rights.
	gProvisionNotOwner = guard{"provisioning_not_owner", CodeNotFound, "user not found", targetOwner}
	gProvisionNotAdmin = guard{"provisioning_not_admin", CodeForbidden, "administrators are managed in Tilgang by a main administrator or the account owner, not by the directory",
		func(_ Principal, r Request) bool { return isAdmin(r.Target) }}
	gProvisionDirectoryGroup = guard{"provisioning_directory_group", CodeNotFound, "group not found",
		func(_ Principal, r Request) bool { return r.Group == nil || !r.Directory }}
	gProvisionNoRights = guard{"provisioning_grants_nothing", CodeForbidden, "the directory cannot give rights: an administrator gives a directory group its rights in Tilgang",
		func(_ Principal, r Request) bool {
			return r.Group != nil && r.Group.Version == 0 && RightsFingerprint(r.Group.Permissions) != ""
		}}
	gNotDeleteSelfOrOwner = guard{"not_delete_self_or_owner", CodeConflict, "the account owner and yourself cannot be deleted",
		func(p Principal, r Request) bool { return isSelf(p, r) || targetOwner(p, r) }}
)

func area(a Area, l Level) need    { return need{area: a, level: l} }
func areaAll(a Area, l Level) need { return need{area: a, level: l, all: true} }
func privilege(c Privilege) need   { return need{cap: c} }

// ops is the policy table: what each operation needs and which "nobody may" rules guard it.
var ops map[Op]rule

func init() {
	ops = map[Op]rule{
		OpReadUser:          {what: "reading other users", needs: []need{area(AreaUsers, LevelView)}, self: true, hidden: "user"},
		OpListUsers:         {what: "listing users", needs: []need{area(AreaUsers, LevelView)}},
		OpManageUsers:       {what: "managing users and groups", needs: []need{area(AreaUsers, LevelEdit)}},
		OpChangeUser:        {what: "changing other users", needs: []need{area(AreaUsers, LevelEdit)}, guards: []guard{gOnlyOwnerOnOwner, gAdminPeer}},
		OpDeleteUser:        {what: "deleting users", needs: []need{area(AreaUsers, LevelDelete)}, guards: []guard{gOnlyOwnerOnOwner, gAdminPeer, gNotDeleteSelfOrOwner}},
		OpChangeRights:      {what: "changing users' rights", needs: []need{area(AreaUsers, LevelEdit)}, guards: []guard{gNotOwnRights, gNotOwnersRights, gAdminPeer}},
		OpGrantRole:         {what: "giving or taking roles", custom: decideRole},
		OpEditGroup:         {what: "managing groups", needs: []need{area(AreaUsers, LevelEdit)}, guards: []guard{gNotMember}},
		OpRemoveUser:        {what: "removing and restoring users", needs: []need{privilege(PrivUserBank)}, guards: []guard{gBankNotOwner, gBankNotSelf, gAdminPeer}},
		OpAnonymise:         {what: "anonymising users", needs: []need{privilege(PrivAnonymise)}, guards: []guard{gBankNotOwner, gBankNotSelf, gAdminPeer}},
		OpReadUserBank:      {what: "reading the user bank", needs: []need{area(AreaUsers, LevelView), privilege(PrivUserBank)}},
		OpManageLinks:       {what: "managing assistant links", needs: []need{privilege(PrivLinks), area(AreaUsers, LevelEdit)}},
		OpReadLinks:         {what: "reading other users' links", needs: []need{area(AreaUsers, LevelView), privilege(PrivLinks)}, self: true, hidden: "user"},
		OpReadSettings:      {what: "reading settings", needs: []need{area(AreaSettings, LevelView)}},
		OpEditSettings:      {what: "changing settings", needs: []need{area(AreaSettings, LevelEdit)}},
		OpActivateApps:      {what: "activating apps", needs: []need{area(AreaApps, LevelEdit)}},
		OpTransferOwnership: {what: "transferring ownership", needs: []need{privilege(PrivOwnership)}},
		OpReadAudit:         {what: "reading the audit log", needs: []need{privilege(PrivAudit)}},
		OpListClients:       {what: "listing every client", needs: []need{areaAll(AreaClients, LevelView)}},
		OpCreateClient:      {what: "creating clients", guards: []guard{gManualOwnPractice}, custom: decideCreateClient},
		OpManageAssignments: {what: "assigning clients", needs: []need{area(AreaUsers, LevelEdit), areaAll(AreaClients, LevelEdit)}, guards: []guard{gNotOwnAssignments, gOwnPractice, gSamePractice}},
		OpAssignAt:          {what: "assigning clients at this level", custom: decideAssignAt},
		OpReadClientAccess:  {what: "reading who can open a client", needs: []need{area(AreaUsers, LevelView), areaAll(AreaClients, LevelView)}, guards: []guard{gSeesPractice}},
		OpManageClientAdmins: {what: "appointing client administrators", guards: []guard{gOwnerIsClientAdmin, gNotOwnClientAdmin},
			custom: decideClientAdmins},
		OpReadClientAdmins: {what: "reading a client's administrators", needs: []need{area(AreaUsers, LevelView), areaAll(AreaClients, LevelView),
			privilege(PrivClientAdmins)}},
		OpSubmitJobs:    {what: "running access jobs", needs: []need{area(AreaUsers, LevelEdit), area(AreaClients, LevelEdit), privilege(PrivClientAdmins)}},
		OpReadJob:       {what: "reading another user's job", self: true, hidden: "access job"},
		OpGrantProgram:  {what: "assigning programs", guards: []guard{gRequesterActive, gNotSelfGrant, gGrantSamePractice}, custom: decideGrantProgram},
		OpRevokeClient:  {what: "removing client access", guards: []guard{gRequesterActive, gNotSelfGrant}, custom: decideRevokeClient},
		OpAppointment:   {what: "making appointments", guards: []guard{gNotSelfAppointment, gSamePractice}, custom: decideAppointment},
		OpAccess:        {what: "access", custom: decideAccess},
		OpMigrateLegacy: {what: "migrating users with individual rights"},
		OpManageReviews: {what: "starting access reviews", needs: []need{area(AreaUsers, LevelEdit), areaAll(AreaClients, LevelEdit)}},
		OpReadReview:    {what: "reading access reviews", custom: decideReview},
		OpDecideReview:  {what: "deciding access reviews", guards: []guard{gNotSelfReview}, custom: decideReview},
		OpListCalendars: {what: "listing every calendar", needs: []need{areaAll(AreaCalendars, LevelView), area(AreaUsers, LevelView),
			area(AreaOnlineBooking, LevelView), area(AreaSettings, LevelView)}},
		OpEditCalendar: {what: "changing calendars", needs: []need{areaAll(AreaCalendars, LevelEdit), area(AreaUsers, LevelEdit)}},
		OpExportUser:   {what: "exporting another person's data", needs: []need{privilege(PrivAnonymise)}, self: true},
		// No needs: the owner's alone.
		OpManageProvisioning: {what: "managing provisioning tokens"},
		OpProvisionUser: {what: "provisioning users", needs: []need{privilege(PrivProvisioning)},
			guards: []guard{gProvisionNotOwner, gProvisionNotAdmin}},
		OpDeprovisionUser: {what: "deprovisioning users", needs: []need{privilege(PrivProvisioning)},
			guards: []guard{gProvisionNotOwner}},
		OpProvisionGroup: {what: "provisioning groups", needs: []need{privilege(PrivProvisioning)},
			guards: []guard{gProvisionDirectoryGroup, gProvisionNoRights}},
		OpProvisionMembership: {what: "provisioning group members", needs: []need{privilege(PrivProvisioning)},
			guards: []guard{gProvisionNotOwner, gProvisionNotAdmin, gProvisionDirectoryGroup}},
	}
	// What the table says in words is worded once, here, not on every decision.
	for op, ru := range ops {
		for i := range ru.needs {
			ru.needs[i].words = ru.needs[i].String()
		}
		ru.refusal = ru.what + " needs " + alternatives(ru.needs)
		ops[op] = ru
	}
}

// Decide answers one request. It is pure: same principal and request, same answer.
func Decide(p Principal, r Request) Decision {
	r.Client = liveFacts(r.Client, p.Now)
	ru, ok := ops[r.Op]
	if !ok {
		return Decision{Level: LevelNone, Code: CodeForbidden, reason: becauseOf("unknown operation ", string(r.Op), "")}
	}
	if ru.self && isSelf(p, r) {
		return Decision{Allowed: true, Level: LevelNone, reason: because("their own")}
	}
	// Visibility first: a hidden resource answers not found before any other rule speaks, so
	// refusals tell nothing about what exists.
	if ru.hidden != "" && !p.User.IsOwner && !satisfied(&p.Effective, ru.needs) {
		return Decision{Level: LevelNone, Code: CodeNotFound, reason: becauseOf(ru.hidden, "", " not found")}
	}
	for _, g := range ru.guards {
		if g.applies(p, r) {
			return Decision{Level: LevelNone, Code: g.code, reason: because(g.message)}
		}
	}
	if ru.custom != nil {
		return ru.custom(p, r)
	}
	if p.User.IsOwner {
		return Decision{Allowed: true, Level: LevelDelete, reason: because("the account owner"), Sources: ownerDecisionSources}
	}
	for _, n := range ru.needs {
		if srcs, ok := meets(&p.Effective, n); ok {
			return Decision{Allowed: true, Level: n.level, reason: sourcesGive(srcs, " gives ", n.String(), ""), Sources: srcs}
		}
	}
	return Decision{Level: LevelNone, Code: CodeForbidden, reason: because(ru.refusal)}
}

// ownerDecisionSources is the source of what the owner is allowed by ownership (shared,
// read-only).
var ownerDecisionSources = []Source{{Type: SourceOwner, Name: "account owner"}}

func satisfied(e *Effective, needs []need) bool {
	for _, n := range needs {
		if _, ok := meets(e, n); ok {
			return true
		}
	}
	return false
}

// meets reports whether the rights satisfy a need and which sources do. The sources are the
// rights' own (read-only) when every one of them counts, as they mostly do.
func meets(e *Effective, n need) ([]Source, bool) {
	if n.cap != "" {
		s := e.PrivilegeSources(n.cap)
		return s, len(s) > 0
	}
	r := e.Area(n.area)
	have := r.Level
	if n.all {
		have = r.AllLevel
	}
	if have == "" || !have.AtLeast(n.level) {
		return nil, false
	}
	var srcs []Source
	for i, s := range r.Sources {
		switch counts := s.Level.AtLeast(n.level) && (!n.all || s.Scope == ScopeAll || s.Type == SourceOwner); {
		case counts && srcs != nil:
			srcs = append(srcs, s)
		case !counts && srcs == nil:
			srcs = append(make([]Source, 0, len(r.Sources)), r.Sources[:i]...)
		}
	}
	switch {
	case srcs == nil:
		return r.Sources, true // every source counts
	case len(srcs) == 0:
		return nil, true
	}
	return srcs, true
}

func alternatives(needs []need) string {
	parts := make([]string, len(needs))
	for i, n := range needs {
		parts[i] = n.String()
	}
	if len(parts) == 0 {
		return "the account owner"
	}
	return strings.Join(parts, ", or ")
}

func describeSources(srcs []Source) string {
	names := make([]string, 0, len(srcs))
	for _, s := range srcs {
		names = append(names, SourceName(s))
	}
	if len(names) == 0 {
		return "a right"
	}
	return strings.Join(names, " and ")
}

// refuse is a refusal for the reason text. It and allow stay out of line: inlined at each of
// their thirty-odd call sites, they made every Lambda a few kilobytes bigger.
//
//go:noinline
func refuse(field, text string) Decision {
	return Decision{Level: LevelNone, Code: CodeForbidden, Field: field, reason: because(text)}
}

// refusef is refuse with a formatted reason (worded at once: refusals are few and surface).
func refusef(field, format string, args ...any) Decision {
	return refuse(field, fmt.Sprintf(format, args...))
}

// allow is an allowing decision at level l for the reason text.
//
//go:noinline
func allow(l Level, text string) Decision {
	return Decision{Allowed: true, Level: l, reason: because(text)}
}

// allowBy is an allowing decision at level l for the reason w.
func allowBy(l Level, w reason) Decision {
	return Decision{Allowed: true, Level: l, reason: w}
}

// decideRole: administrators' roles are managed by holders of PrivManageAdmins only; any other
// role can be handed out only by someone who has everything it gives (nobody escalates by way of
// a second account, roles included).
func decideRole(p Principal, r Request) Decision {
	if p.User.IsOwner {
		return allow(LevelNone, "the account owner")
	}
	if r.Role.Administrative() {
		if p.Effective.Has(PrivManageAdmins) {
			return allowBy(LevelNone, sourcesGive(p.Effective.PrivilegeSources(PrivManageAdmins), " manages administrators", "", ""))
		}
		return refuse("roles", "only a main administrator or the account owner manages administrator roles")
	}
	g := RoleRights[r.Role]
	if d := withinOwnRights(p, "roles", g.Permissions); !d.Allowed {
		return d
	}
	for _, c := range g.Privileges {
		// own_links only lets the holder read their own links, which a user manager reads
		// already: it raises nobody, so it does not stop a user manager creating assistants.
		if c == PrivOwnLinks {
			continue
		}
		if !p.Effective.Has(c) {
			return refusef("roles", "you cannot give the %s role: it carries the %s capability, which you do not have yourself", r.Role, c)
		}
	}
	return allow(LevelNone, "the role gives nothing beyond your own rights")
}

// withinOwnRights stops a user manager from handing out more than they have themselves.
func withinOwnRights(p Principal, field string, perms Permissions) Decision {
	if p.User.IsOwner {
		return allow(LevelNone, "the account owner")
	}
	for _, a := range Areas {
		want := perms.Get(a)
		if want.Level == LevelNone {
			continue
		}
		mine := p.Effective.Area(a)
		have := mine.Level
		if a.Scoped() && want.Scope == ScopeAll {
			have = mine.AllLevel
		}
		if !have.AtLeast(want.Level) {
			scope := ""
			if want.Scope != "" {
				scope = " (" + string(want.Scope) + ")"
			}
			return refusef(field, "you cannot grant %s %s%s: it is more than you have yourself", a, want.Level, scope)
		}
	}
	return allow(LevelNone, "within your own rights")
}

// WithinOwnRights decides whether the principal may hand out perms (a group's permissions, a
// user's groups, a role).
func WithinOwnRights(p Principal, field string, perms Permissions) Decision {
	return withinOwnRights(p, field, perms)
}

func decideCreateClient(p Principal, r Request) Decision {
	if p.User.IsOwner {
		return allow(LevelDelete, "the account owner")
	}
	if srcs, ok := meets(&p.Effective, area(AreaClients, LevelEdit)); ok {
		return Decision{Allowed: true, Level: LevelEdit, reason: sourcesGive(srcs, " gives edit on clients", "", ""), Sources: srcs}
	}
	if r.Source == string(ClientManual) {
		return refuse("", "creating clients needs edit on clients")
	}
	if srcs, ok := meets(&p.Effective, area(AreaOnlineBooking, LevelEdit)); ok {
		return Decision{Allowed: true, Level: LevelEdit, reason: sourcesGive(srcs, " gives edit on online_booking", "", ""), Sources: srcs}
	}
	return refuse("", "creating signed-up or booked clients needs edit on clients or on online_booking")
}

// decideAssignAt: nobody hands out more than they have: assigning at a level needs that level on
// every client (scope all); user management alone does not open clients.
func decideAssignAt(p Principal, r Request) Decision {
	if p.User.IsOwner {
		return allow(r.Level, "the account owner")
	}
	if srcs, ok := meets(&p.Effective, areaAll(AreaClients, r.Level)); ok {
		return Decision{Allowed: true, Level: r.Level, reason: sourcesGive(srcs, " gives clients ", string(r.Level), " on every client"), Sources: srcs}
	}
	return refusef("level", "you cannot assign clients %s: it is more than you have yourself (clients %s, scope all)", r.Level, r.Level)
}

// adminOf is the principal's administration of the client of r: everything for the owner.
func adminOf(p Principal, r Request) ClientAdmin {
	if p.User.IsOwner {
		return ClientAdmin{System: true, Implicit: true}
	}
	if r.Client != nil && r.Client.Admin != nil {
		return *r.Client.Admin
	}
	return ClientAdmin{}
}

// decideClientAdmins: the owner, a system administrator of the client, or a holder of
// PrivClientAdmins (the admin roles) appoints its administrators.
func decideClientAdmins(p Principal, r Request) Decision {
	if a := adminOf(p, r); a.System {
		if a.Implicit {
			return allow(LevelNone, "the account owner")
		}
		return allow(LevelNone, "system administrator of the client")
	}
	if p.Effective.Has(PrivClientAdmins) {
		return allowBy(LevelNone, sourcesGive(p.Effective.PrivilegeSources(PrivClientAdmins), " appoints client administrators", "", ""))
	}
	return refuse("", "only the account owner, the client's system administrators and administrators appoint its administrators")
}

// decideGrantProgram decides one program of a grant or remove-programs job item (and the same
// change made any other way): the target must be an active consultant for a grant, and the
// principal system administrator of the client or program administrator of the program.
func decideGrantProgram(p Principal, r Request) Decision {
	a := adminOf(p, r)
	var d Decision
	switch {
	case a.Implicit:
		d = allow(GrantLevel, "the account owner")
	case a.System:
		d = allow(GrantLevel, "system administrator of the client")
	case slices.Contains(a.Programs, r.Program):
		d = allowBy(GrantLevel, becauseOf("program administrator of ", r.Program, " at the client"))
	default:
		return refuse("", "you are neither system administrator of the client nor program administrator of this program there")
	}
	// Only once permitted does the decision tell anything about the target.
	if r.Target != nil && r.Level != LevelNone {
		switch {
		case r.Target.Status != StatusActive:
			return Decision{Level: LevelNone, Code: CodeInactive, reason: because("the consultant is not active")}
		case !r.Target.HasRole(RoleConsultant):
			return Decision{Level: LevelNone, Code: CodeNotAConsultant, reason: because("the user does not have the consultant role")}
		}
	}
	return d
}

// decideRevokeClient: removing a consultant's client access needs system administrator of the
// client, or program administrator of every program the consultant has there.
func decideRevokeClient(p Principal, r Request) Decision {
	a := adminOf(p, r)
	if a.System {
		return allow(LevelEdit, "system administrator of the client")
	}
	var has []string
	if r.Client != nil && r.Client.Grant != nil {
		has = r.Client.Grant.Programs
	}
	// A program administrator removes a consultant's access only where every program the
	// consultant has there is theirs to remove, and there is at least one: access without
	// programs (or an assignment) is the system administrator's to take away.
	if len(a.Programs) > 0 && len(has) > 0 && !slices.ContainsFunc(has, func(p string) bool { return !a.CanAssign(p) }) {
		return allow(LevelEdit, "program administrator of every program the consultant has at the client")
	}
	return refuse("", "removing client access needs system administrator of the client, or program administrator of every program the consultant has there")
}

// decideAppointment: manual appointments need edit on calendars (and, without scope all, on the
// calendar named); online bookings are made by the booking system (edit on online_booking).
func decideAppointment(p Principal, r Request) Decision {
	if p.User.IsOwner {
		return allow(LevelEdit, "the account owner")
	}
	if r.Source == string(AppointmentOnlineBooking) {
		if srcs, ok := meets(&p.Effective, area(AreaOnlineBooking, LevelEdit)); ok {
			return Decision{Allowed: true, Level: LevelEdit, reason: sourcesGive(srcs, " gives edit on online_booking", "", ""), Sources: srcs}
		}
		return refuse("", "online bookings are made by the booking system: edit on online_booking")
	}
	if _, ok := meets(&p.Effective, area(AreaCalendars, LevelEdit)); !ok {
		return refuse("", "making appointments needs edit on calendars")
	}
	if srcs, ok := meets(&p.Effective, areaAll(AreaCalendars, LevelEdit)); ok {
		return Decision{Allowed: true, Level: LevelEdit, reason: sourcesGive(srcs, " gives edit on every calendar", "", ""), Sources: srcs}
	}
	if r.CalendarID == "" {
		return refuse("calendarId", "making appointments in this employee's calendar needs edit on it: name a calendarId you may edit")
	}
	if d := p.Effective.AuthorizeCalendar(LevelEdit, r.CalendarID); !d.Allowed {
		return refuse("calendarId", "making appointments in this employee's calendar needs edit on it: name a calendarId you may edit")
	}
	return allow(LevelEdit, "edit on the calendar")
}

// decideAccess answers POST /v1/authorize and every read of one client: the principal is the user
// asked about.
func decideAccess(p Principal, r Request) Decision {
	if p.User.Status != StatusActive {
		return Decision{Level: LevelNone, reason: becauseOf("the user is ", string(p.User.Status), "")}
	}
	switch {
	case r.Client != nil:
		if acrossPractices(&p, &r) {
			d, _ := decidePractice(&p, &r)
			return d
		}
		return clientDecision(&p.Effective, &r, r.Client)
	case r.CalendarID != "":
		if r.Calendar != nil && r.Calendar.Practice != p.User.Practice() {
			return Decision{Level: LevelNone, Code: CodeForbidden,
				reason: because("the calendar belongs to another practice: a hirer's calendars are the hirer's, the clinic's the clinic's (scope all and the account owner included)")}
		}
		return p.Effective.AuthorizeCalendar(r.Level, r.CalendarID)
	default:
		return p.Effective.AuthorizeArea(r.Level, r.Area)
	}
}

// DecideAccess is Decide for OpAccess: may the user do action on an area (or one client, one of
// its programs, one calendar)?
func DecideAccess(u User, e Effective, action Level, a Area, facts *ClientFacts, calendarID, program string, now time.Time) Decision {
	return Decide(Principal{User: u, Effective: e, Now: now}, Request{Op: OpAccess, Level: action, Area: a, Client: facts, CalendarID: calendarID, Program: program})
}
