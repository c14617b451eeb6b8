package fakeopenai

import (
	"net/http"
	"time"
)

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type modelList struct {
	Object string        `json:"object"`
	Data   []modelObject `json:"data"`
}

// listModels lists every name a request may use: each alias and each
// snapshot, as OpenAI lists both gpt-4o and gpt-4o-2024-08-06.
func (s *Server) listModels(w *answer, r *http.Request, rec *Request) *apiError {
	start := time.Now()
	if err := s.chooseFault(r, rec); err != nil {
		return err
	}
	if stop, err := s.applyFault(w, r, rec); stop {
		return err
	}
	list := modelList{Object: "list", Data: []modelObject{}}
	for _, m := range s.catalog.models {
		for _, name := range append(append([]string(nil), m.Aliases...), m.ID) {
			list.Data = append(list.Data, modelObject{ID: name, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy})
		}
	}
	s.respond(w, rec, start, list)
	return nil
}

func (s *Server) getModel(w *answer, r *http.Request, rec *Request) *apiError {
	start := time.Now()
	name := r.PathValue("id")
	rec.Model = name
	m, ok := s.catalog.Resolve(name)
	if !ok {
		return errModelNotFound(name)
	}
	rec.ResolvedModel = m.ID
	if err := s.chooseFault(r, rec); err != nil {
		return err
	}
	if stop, err := s.applyFault(w, r, rec); stop {
		return err
	}
	s.respond(w, rec, start, modelObject{ID: name, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy})
	return nil
}
