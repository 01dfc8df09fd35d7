package amapi

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
)

// maxSilenceBody bounds a POST /api/v2/silences body.
const maxSilenceBody = 1 << 20

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// listSilences is GET /api/v2/silences: every silence (expired ones until
// they are collected) that has each filter matcher, active first.
func (a *API) listSilences(w http.ResponseWriter, r *http.Request) {
	filter, err := parseFilter(r)
	if err != nil {
		a.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := a.now()
	sils := a.s.List(silence.Query{Filter: filter})
	out := make([]silence.Gettable, 0, len(sils))
	for _, s := range sils {
		out = append(out, silence.Gettable{Silence: s, State: s.State(now)})
	}
	a.writeJSON(w, http.StatusOK, out)
}

// postSilence is POST /api/v2/silences: create, or update the silence the
// body's id names (see silence.Store.Set).
func (a *API) postSilence(w http.ResponseWriter, r *http.Request) {
	sil, err := silence.DecodePostable(http.MaxBytesReader(w, r.Body, maxSilenceBody))
	var se *silence.SchemaError
	switch {
	case errors.As(err, &se):
		a.writeSchemaError(w, http.StatusUnprocessableEntity, 602, se.Msg)
		return
	case err != nil:
		a.writeSchemaError(w, http.StatusBadRequest, http.StatusBadRequest, err.Error())
		return
	case !sil.StartsAt.Before(sil.EndsAt):
		a.writeError(w, http.StatusBadRequest, "Failed to create silence: start time must be before end time")
		return
	case sil.EndsAt.Before(a.now()):
		a.writeError(w, http.StatusBadRequest, "Failed to create silence: end time can't be in the past")
		return
	}
	id, err := a.s.Set(r.Context(), sil)
	var ie *silence.InvalidError
	switch {
	case errors.Is(err, silence.ErrNotFound):
		a.writeError(w, http.StatusNotFound, err.Error())
		return
	case errors.As(err, &ie):
		a.writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		a.logger.Error("amapi: storing a silence failed", "err", err)
		a.writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]string{"silenceID": id})
}

// silenceID reads the path's silence ID, answering 422 when it is not a
// UUID, as Alertmanager does.
func (a *API) silenceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !uuidRE.MatchString(id) {
		a.writeSchemaError(w, http.StatusUnprocessableEntity, 601, fmt.Sprintf("silenceID in path must be of type uuid: %q", id))
		return "", false
	}
	return id, true
}

// getSilence is GET /api/v2/silence/{id}.
func (a *API) getSilence(w http.ResponseWriter, r *http.Request) {
	id, ok := a.silenceID(w, r)
	if !ok {
		return
	}
	s, err := a.s.Get(id)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	a.writeJSON(w, http.StatusOK, silence.Gettable{Silence: s, State: s.State(a.now())})
}

// deleteSilence is DELETE /api/v2/silence/{id}: expire it now.
func (a *API) deleteSilence(w http.ResponseWriter, r *http.Request) {
	id, ok := a.silenceID(w, r)
	if !ok {
		return
	}
	switch err := a.s.Expire(r.Context(), id); {
	case errors.Is(err, silence.ErrNotFound):
		w.WriteHeader(http.StatusNotFound)
	case err != nil:
		a.logger.Error("amapi: expiring a silence failed", "id", id, "err", err)
		a.writeError(w, http.StatusInternalServerError, err.Error())
	default:
		w.WriteHeader(http.StatusOK)
	}
}
