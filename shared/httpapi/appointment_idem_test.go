package httpapi_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

func TestAppointmentRetryWithTheSameKey(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	o := ten.Owner
	emp := o.CreateUser(t, nil)
	c := o.Must(t, "POST", "/v1/clients", map[string]any{"name": "Retried Client"}, 201).Map(t)["id"].(string)
	body := map[string]any{"clientId": c, "employeeId": emp, "source": "manual"}
	first := o.Must(t, "POST", "/v1/appointments", body, 201, "Idempotency-Key", "apt-1").Map(t)
	env.Counter.Reset()
	again := o.Must(t, "POST", "/v1/appointments", body, 201, "Idempotency-Key", "apt-1").Map(t)
	if again["id"] != first["id"] {
		t.Errorf("retry answered appointment %v, want %v", again["id"], first["id"])
	}
	if w := env.Counter.Writes(); w != 0 {
		t.Errorf("retry wrote %d times", w)
	}
	// The same key for another request is refused; a new key makes a new appointment.
	o.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp, "source": "manual", "calendarId": "cal_x"}, 422, "Idempotency-Key", "apt-1")
	other := o.Must(t, "POST", "/v1/appointments", body, 201, "Idempotency-Key", "apt-2").Map(t)
	if other["id"] == first["id"] {
		t.Error("a new key answered the first appointment")
	}
	// Even when the appointment changed nothing, its key is remembered.
	third := o.Must(t, "POST", "/v1/appointments", body, 201, "Idempotency-Key", "apt-2").Map(t)
	if third["id"] != other["id"] {
		t.Errorf("retry of a no-change appointment answered %v, want %v", third["id"], other["id"])
	}
}
