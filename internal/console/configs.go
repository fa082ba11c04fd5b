package console

// Editing a topic's configs from the Configs tab: POST
// /api/topics/{topic}/configs sets and deletes config overrides in one
// incremental alter (IncrementalAlterConfigs, SET and DELETE ops). A
// deleted override falls back to the broker's default. The tab's table
// itself is gathered in topic.go.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// configsRequest is the body of POST /api/topics/{topic}/configs: the
// configs to set (key → value) and the overrides to delete (back to the
// default).
type configsRequest struct {
	Set    map[string]string `json:"set"`
	Delete []string          `json:"delete"`
}

// check trims the keys, drops repeated deletes and sorts them, and refuses
// a request that changes nothing, an empty key or a key both set and
// deleted (Kafka refuses the last as a duplicate too).
func (req *configsRequest) check() error {
	set := make(map[string]string, len(req.Set))
	for k, v := range req.Set {
		k = strings.TrimSpace(k)
		if k == "" {
			return fmt.Errorf("%w: a config to set needs a key", ErrBadRequest)
		}
		if _, dup := set[k]; dup {
			return fmt.Errorf("%w: config %s is given twice", ErrBadRequest, k)
		}
		set[k] = v
	}
	var del []string
	for _, k := range req.Delete {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			return fmt.Errorf("%w: a config to reset needs a key", ErrBadRequest)
		case slices.Contains(del, k):
			continue
		}
		if _, both := set[k]; both {
			return fmt.Errorf("%w: config %s is both set and reset; choose one", ErrBadRequest, k)
		}
		del = append(del, k)
	}
	if len(set) == 0 && len(del) == 0 {
		return fmt.Errorf(`%w: nothing to change: give {"set": {"key": "value"}} and/or {"delete": ["key"]}`, ErrBadRequest)
	}
	slices.Sort(del)
	req.Set, req.Delete = set, del
	return nil
}

// alterConfigs sets and deletes config overrides of a topic. The broker
// checks keys and values; its error (INVALID_CONFIG with "unknown topic
// config name: foo", say) is what the user sees.
func (c *Console) alterConfigs(ctx context.Context, r *http.Request, cli bool) (actionResult, error) {
	topic := r.PathValue("topic")
	var req configsRequest
	if err := decodeBody(r, &req); err != nil {
		return actionResult{}, err
	}
	if err := req.check(); err != nil {
		return actionResult{}, err
	}
	cl := clusterOf(ctx)
	if cli {
		return actionResult{CLI: cl.cliAlterConfigs(topic, req), KafkaCLI: cl.kafkaAlterConfigs(topic, req)}, nil
	}
	alters := make([]kadm.AlterConfig, 0, len(req.Set)+len(req.Delete))
	var set []string
	for _, k := range sortedKeys(req.Set) {
		v := req.Set[k]
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
		set = append(set, k+"="+v)
	}
	for _, k := range req.Delete {
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	rs, err := cl.adm.AlterTopicConfigs(ctx, alters, topic)
	if err == nil {
		var resp kadm.AlterConfigsResponse
		if resp, err = rs.On(topic, nil); err == nil {
			err = brokerErr(resp.Err, resp.ErrMessage)
		}
	}
	if err != nil {
		return actionResult{}, fmt.Errorf("alter configs of topic %q: %w", topic, err)
	}
	var done []string
	if len(set) > 0 {
		done = append(done, strings.Join(set, ", "))
	}
	if len(req.Delete) > 0 {
		done = append(done, "reset "+strings.Join(req.Delete, ", "))
	}
	return actionResult{Message: fmt.Sprintf("Updated configs of topic %s: %s", topic, strings.Join(done, "; "))}, nil
}
