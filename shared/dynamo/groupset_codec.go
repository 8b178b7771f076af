package dynamo

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A group set entry is stored as one string, not as a map of maps: every request reads the set,
// and each nested attribute value costs time to encode, parse and unmarshal on both sides of the
// wire (20 groups as nested maps made the set cost four times the user item to read). Entries
// written before this are maps; they still read, and are rewritten as strings when their group
// next changes.
//
//	v1|<version>|<disabled 0/1>|<area>:<level>:<scope>,…|<name>
//
// Areas, levels and scopes are fixed words without ':', ',' or '|'; the name comes last, so it
// may hold any character.
const groupSetEntryFormat = "v1"

func (e groupSetEntry) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	var b strings.Builder
	b.WriteString(groupSetEntryFormat)
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(e.Version))
	if e.Disabled {
		b.WriteString("|1|")
	} else {
		b.WriteString("|0|")
	}
	first := true
	for _, area := range slices.Sorted(maps.Keys(e.Permissions)) {
		p := e.Permissions[area]
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(area)
		b.WriteByte(':')
		b.WriteString(p.Level)
		b.WriteByte(':')
		b.WriteString(p.Scope)
	}
	b.WriteByte('|')
	b.WriteString(e.Name)
	return &types.AttributeValueMemberS{Value: b.String()}, nil
}

func (e *groupSetEntry) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return e.decode(v.Value)
	case *types.AttributeValueMemberM:
		// An entry written as a map, before the string form.
		type legacy groupSetEntry
		var l legacy
		if err := attributevalue.UnmarshalMap(v.Value, &l); err != nil {
			return err
		}
		*e = groupSetEntry(l)
		return nil
	default:
		return fmt.Errorf("group set entry: unexpected %T", av)
	}
}

func (e *groupSetEntry) decode(s string) error {
	parts := strings.SplitN(s, "|", 5)
	if len(parts) != 5 || parts[0] != groupSetEntryFormat {
		return fmt.Errorf("group set entry: not in format %s", groupSetEntryFormat)
	}
	version, err := strconv.Atoi(parts[1])
	if err != nil {
		return fmt.Errorf("group set entry: version: %w", err)
	}
	*e = groupSetEntry{Version: version, Disabled: parts[2] == "1", Name: parts[4]}
	if parts[3] == "" {
		return nil
	}
	e.Permissions = make(map[string]permItem, strings.Count(parts[3], ",")+1)
	for p := range strings.SplitSeq(parts[3], ",") {
		area, rest, ok1 := strings.Cut(p, ":")
		level, scope, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 {
			return fmt.Errorf("group set entry: permission %q", p)
		}
		e.Permissions[area] = permItem{Level: level, Scope: scope}
	}
	return nil
}
