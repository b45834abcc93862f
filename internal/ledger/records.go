package ledger

import "time"

// Organisation is a legal person that owns accounts.
type Organisation struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	CreatedAt time.Time `json:"created_at"`
}

// Account holds units for one organisation.
type Account struct {
	ID        int64         `json:"id"`
	OrgID     int64         `json:"organisation_id"`
	Type      AccountType   `json:"type"`
	Status    AccountStatus `json:"status"`
	Name      string        `json:"name"`
	CreatedAt time.Time     `json:"created_at"`
}

// Issuance is one issuance of units of one project and vintage; its blocks
// partition [1, Quantity].
type Issuance struct {
	ID          int64     `json:"id"`
	Standard    string    `json:"standard"`
	UnitType    string    `json:"unit_type"`
	Project     string    `json:"project"`
	ProjectName string    `json:"project_name"`
	Methodology string    `json:"methodology"`
	HostCountry string    `json:"host_country"`
	Vintage     int       `json:"vintage"`
	Quantity    int64     `json:"quantity"`
	AccountID   int64     `json:"account_id"`
	Seq         int64     `json:"seq"`
	CreatedAt   time.Time `json:"created_at"`
}

// Entry is one journal entry. Hash is SHA-256 over PrevHash and the entry's
// other fields (see registry.EntryHash); the chain starts from GenesisHash.
type Entry struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	Kind        string    `json:"kind"`
	Actor       string    `json:"actor"`
	IdemKey     string    `json:"idempotency_key,omitempty"`
	RequestHash string    `json:"request_hash"`
	Body        string    `json:"body"`
	PrevHash    string    `json:"prev_hash"`
	Hash        string    `json:"hash"`
}

// GenesisHash is the previous hash of the first journal entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Movement records that a serial range changed place or state in one entry.
type Movement struct {
	Seq         int64 `json:"seq"`
	Issuance    int64 `json:"issuance_id"`
	Start       int64 `json:"start"`
	End         int64 `json:"end"`
	FromAccount int64 `json:"from_account"`
	ToAccount   int64 `json:"to_account"`
	FromState   State `json:"from_state"`
	ToState     State `json:"to_state"`
}

// Role is what an API token may do.
type Role string

const (
	RoleAdmin   Role = "admin"
	RoleHolder  Role = "holder"
	RoleAuditor Role = "auditor"
)

// Token is an API token, stored only as a hash.
type Token struct {
	Hash      string    `json:"-"`
	OrgID     int64     `json:"organisation_id"`
	Role      Role      `json:"role"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}
