package dynamo

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestGroupSetEntryRoundTrip(t *testing.T) {
	for _, e := range []groupSetEntry{
		{Name: "Reception | front desk: a, b", Version: 7, Disabled: true,
			Permissions: map[string]permItem{"clients": {Level: "view", Scope: "all"}, "journals": {Level: "edit"}}},
		{Name: "", Version: 1},
	} {
		av, err := attributevalue.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := av.(*types.AttributeValueMemberS); !ok {
			t.Fatalf("entry stored as %T, want one string", av)
		}
		var got groupSetEntry
		if err := attributevalue.Unmarshal(av, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip: got %+v, want %+v", got, e)
		}
	}
}

// An entry written as a map before the string form still reads.
func TestGroupSetEntryReadsTheMapForm(t *testing.T) {
	type legacy struct {
		Name        string              `dynamodbav:"name"`
		Permissions map[string]permItem `dynamodbav:"permissions"`
		Version     int                 `dynamodbav:"version"`
	}
	av, err := attributevalue.Marshal(legacy{Name: "Old", Version: 3, Permissions: map[string]permItem{"clients": {Level: "edit", Scope: "own"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got groupSetEntry
	if err := attributevalue.Unmarshal(av, &got); err != nil {
		t.Fatal(err)
	}
	want := groupSetEntry{Name: "Old", Version: 3, Permissions: map[string]permItem{"clients": {Level: "edit", Scope: "own"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "v1|x|0||n", "v2|1|0||n", "v1|1|0|clients|n"} {
		if err := attributevalue.Unmarshal(&types.AttributeValueMemberS{Value: bad}, &got); err == nil {
			t.Errorf("%q read without error", bad)
		}
	}
}
