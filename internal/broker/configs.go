package broker

// DescribeConfigs (key 32), v0–v4. v1 adds config sources and synonyms, v3
// config types and documentation.
// AlterConfigs (key 33), v0–v2: replaces a resource's overrides wholesale.
// IncrementalAlterConfigs (key 44), v0–v1: SET, DELETE, APPEND, SUBTRACT.
//
// Resources: topics, and this broker (by its id, or "" for the cluster-wide
// defaults). Topic configs resolve, most specific first: topic override,
// dynamic per-broker config, dynamic cluster default, static broker config
// (flags), Kafka's default.

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/meta"
	"github.com/samsa-streaming/samsa/internal/storage"
)

// configValue is one value a config has at one level. name is the
// config's name at that level when it differs (a topic config's broker
// synonym, e.g. log.retention.ms for retention.ms); "" is the config's own.
type configValue struct {
	value  string
	source kmsg.ConfigSource
	name   string
}

// brokerKey is where a dynamic broker config lives in meta's BrokerConfigs:
// the plain name for a cluster-wide default, "<id>:name" for one broker.
func brokerKey(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + ":" + name
}

// resolveTopic returns every value a topic config has, most specific first;
// the first is the effective one.
func (b *Broker) resolveTopic(st *meta.State, t *meta.Topic, def *configDef) []configValue {
	var vs []configValue
	if t != nil {
		if v, ok := t.Configs[def.name]; ok {
			vs = append(vs, configValue{v, kmsg.ConfigSourceDynamicTopicConfig, ""})
		}
	}
	if def.broker != "" {
		for _, v := range b.resolveBroker(st, def.broker) {
			v.name = def.broker
			vs = append(vs, v)
		}
	}
	// Kafka names the default by the broker config it comes from.
	return append(vs, configValue{def.def, kmsg.ConfigSourceDefaultConfig, def.broker})
}

// resolveBroker returns the values a broker config has above Kafka's default.
func (b *Broker) resolveBroker(st *meta.State, name string) []configValue {
	var vs []configValue
	if v, ok := st.BrokerConfigs[brokerKey(strconv.Itoa(int(b.cfg.NodeID)), name)]; ok {
		vs = append(vs, configValue{v, kmsg.ConfigSourceDynamicBrokerConfig, ""})
	}
	if v, ok := st.BrokerConfigs[name]; ok {
		vs = append(vs, configValue{v, kmsg.ConfigSourceDynamicDefaultBrokerConfig, ""})
	}
	if v, ok := b.staticBrokerConfigs()[name]; ok {
		// A static value equal to Kafka's default is reported as the
		// default, as Kafka does for settings server.properties leaves out.
		if def, _ := brokerDynamic(name); def == nil || def.def != v {
			vs = append(vs, configValue{v, kmsg.ConfigSourceStaticBrokerConfig, ""})
		}
	}
	return vs
}

// logConfig is the storage configuration of a topic's logs.
func (b *Broker) logConfig(st *meta.State, t *meta.Topic) storage.Config {
	get := func(name string) string { return b.resolveTopic(st, t, topicConfigByName[name])[0].value }
	c := b.cfg.Log
	c.TopicID = t.ID
	c.SegmentBytes = parseLong(get("segment.bytes"))
	c.SegmentAge = msDuration(parseLong(get("segment.ms")))
	c.RetentionBytes = parseLong(get("retention.bytes"))
	c.RetentionAge = msDuration(parseLong(get("retention.ms")))
	c.IndexIntervalBytes = int(parseLong(get("index.interval.bytes")))
	c.MaxMessageBytes = int(parseLong(get("max.message.bytes")))
	c.TimestampType = storage.CreateTime
	if get("message.timestamp.type") == "LogAppendTime" {
		c.TimestampType = storage.LogAppendTime
	}
	if !slices.Contains(strings.Split(strings.ReplaceAll(get("cleanup.policy"), " ", ""), ","), "delete") {
		// Compacted topics are never deleted by age or size.
		c.RetentionBytes, c.RetentionAge = -1, -1
	}
	return c
}

// validateTopicConfigs checks names and values of topic config overrides.
func validateTopicConfigs(cfgs map[string]string) error {
	for k, v := range cfgs {
		if err := validateTopicConfig(k, v); err != nil {
			return err
		}
	}
	return nil
}

func validateTopicConfig(name, value string) error {
	def, ok := topicConfigByName[name]
	if !ok {
		return fail(errInvalidConfig, "unknown topic config name: %s", name)
	}
	if err := def.check(value); err != nil {
		return fail(errInvalidConfig, "invalid value %s for configuration %s: %v", value, name, err)
	}
	return nil
}

// createdTopicConfigs is the config list CreateTopics v5+ returns.
func (b *Broker) createdTopicConfigs(t *meta.Topic) []kmsg.CreateTopicsResponseTopicConfig {
	st := b.meta.State()
	out := make([]kmsg.CreateTopicsResponseTopicConfig, 0, len(topicConfigs))
	for i := range topicConfigs {
		v := b.resolveTopic(st, t, &topicConfigs[i])[0]
		if o, ok := t.Configs[topicConfigs[i].name]; ok {
			v = configValue{o, kmsg.ConfigSourceDynamicTopicConfig, ""}
		}
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = topicConfigs[i].name
		val := v.value
		c.Value = &val
		c.Source = int8(v.source)
		out = append(out, c)
	}
	return out
}

func (b *Broker) handleDescribeConfigs(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	st := b.meta.State()
	for _, rr := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType, out.ResourceName = rr.ResourceType, rr.ResourceName
		want := func(name string) bool { return rr.ConfigNames == nil || slices.Contains(rr.ConfigNames, name) }
		add := func(name string, typ kmsg.ConfigType, readOnly bool, vs []configValue, doc string) {
			if !want(name) || len(vs) == 0 {
				return
			}
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			c.Name = name
			val := vs[0].value
			c.Value = &val
			c.ReadOnly = readOnly
			c.Source = vs[0].source
			c.IsDefault = vs[0].source == kmsg.ConfigSourceDefaultConfig
			c.ConfigType = typ
			if req.IncludeDocumentation && doc != "" {
				d := doc
				c.Documentation = &d
			}
			if req.IncludeSynonyms {
				for _, v := range vs {
					s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
					s.Name = cmp.Or(v.name, name)
					sv := v.value
					s.Value = &sv
					s.Source = v.source
					c.ConfigSynonyms = append(c.ConfigSynonyms, s)
				}
			}
			out.Configs = append(out.Configs, c)
		}
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t := st.Topic(rr.ResourceName)
			if t == nil {
				err := fail(errUnknownTopicOrPartition, "topic %s does not exist", rr.ResourceName)
				out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
				break
			}
			for i := range topicConfigs {
				d := &topicConfigs[i]
				add(d.name, d.typ, false, b.resolveTopic(st, t, d), d.doc)
			}
		case kmsg.ConfigResourceTypeBroker:
			if err := b.checkBrokerResource(rr.ResourceName); err != nil {
				out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
				break
			}
			var names []string
			for _, bc := range brokerConfigs {
				names = append(names, bc.name)
			}
			for i := range topicConfigs {
				if topicConfigs[i].broker != "" {
					names = append(names, topicConfigs[i].broker)
				}
			}
			slices.Sort(names)
			for _, name := range slices.Compact(names) {
				def, dynamic := brokerDynamic(name)
				vs := b.resolveBroker(st, name)
				typ := kmsg.ConfigTypeString
				doc := ""
				if def != nil {
					vs = append(vs, configValue{def.def, kmsg.ConfigSourceDefaultConfig, ""})
					typ, doc = def.typ, def.doc
				}
				for _, bc := range brokerConfigs {
					if bc.name == name {
						typ = bc.typ
					}
				}
				if rr.ResourceName == "" { // cluster defaults: only dynamic defaults, as Kafka
					var dv []configValue
					for _, v := range vs {
						if v.source == kmsg.ConfigSourceDynamicDefaultBrokerConfig {
							dv = append(dv, v)
						}
					}
					vs = dv
				}
				add(name, typ, !dynamic, vs, doc)
			}
		default:
			err := fail(errInvalidRequest, "unsupported resource type %d", rr.ResourceType)
			out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp, nil
}

// checkBrokerResource accepts "" (cluster defaults) and this broker's id.
func (b *Broker) checkBrokerResource(name string) error {
	if name == "" || name == strconv.Itoa(int(b.cfg.NodeID)) {
		return nil
	}
	if _, err := strconv.Atoi(name); err != nil {
		return fail(errInvalidRequest, "broker id must be an integer, got %q", name)
	}
	return fail(errInvalidRequest, "broker %s is not this broker (%d)", name, b.cfg.NodeID)
}

// configOp is one change to a resource's overrides.
type configOp struct {
	name  string
	op    kmsg.IncrementalAlterConfigOp
	value *string
}

func (b *Broker) handleAlterConfigs(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		out := kmsg.NewAlterConfigsResponseResource()
		out.ResourceType, out.ResourceName = rr.ResourceType, rr.ResourceName
		ops := make([]configOp, 0, len(rr.Configs))
		for _, c := range rr.Configs {
			ops = append(ops, configOp{c.Name, kmsg.IncrementalAlterConfigOpSet, c.Value})
		}
		err := b.alterConfigs(ctx, rr.ResourceType, rr.ResourceName, ops, true, req.ValidateOnly)
		out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
		resp.Resources = append(resp.Resources, out)
	}
	return resp, nil
}

func (b *Broker) handleIncrementalAlterConfigs(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		out := kmsg.NewIncrementalAlterConfigsResponseResource()
		out.ResourceType, out.ResourceName = rr.ResourceType, rr.ResourceName
		ops := make([]configOp, 0, len(rr.Configs))
		for _, c := range rr.Configs {
			ops = append(ops, configOp{c.Name, c.Op, c.Value})
		}
		err := b.alterConfigs(ctx, rr.ResourceType, rr.ResourceName, ops, false, req.ValidateOnly)
		out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
		resp.Resources = append(resp.Resources, out)
	}
	return resp, nil
}

// alterConfigs applies ops to a resource's overrides. replace drops every
// override not named (AlterConfigs semantics).
func (b *Broker) alterConfigs(ctx context.Context, typ kmsg.ConfigResourceType, name string, ops []configOp, replace, validateOnly bool) error {
	st := b.meta.State()
	var cur map[string]string
	var check func(k, v string) error
	var defaultOf func(k string) string
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		t := st.Topic(name)
		if t == nil {
			return fail(errUnknownTopicOrPartition, "topic %s does not exist", name)
		}
		cur = t.Configs
		check = validateTopicConfig
		defaultOf = func(k string) string { return b.resolveTopic(st, t, topicConfigByName[k])[0].value }
	case kmsg.ConfigResourceTypeBroker:
		if err := b.checkBrokerResource(name); err != nil {
			return err
		}
		cur = make(map[string]string)
		for k, v := range st.BrokerConfigs {
			scope, key, ok := strings.Cut(k, ":")
			if !ok {
				scope, key = "", k
			}
			if scope == name {
				cur[key] = v
			}
		}
		check = func(k, v string) error {
			def, ok := brokerDynamic(k)
			if !ok {
				return fail(errInvalidRequest, "cannot update these configs dynamically: %s", k)
			}
			if err := def.check(v); err != nil {
				return fail(errInvalidConfig, "invalid value %s for configuration %s: %v", v, k, err)
			}
			return nil
		}
		defaultOf = func(k string) string {
			vs := b.resolveBroker(st, k)
			if len(vs) > 0 {
				return vs[0].value
			}
			if def, ok := brokerDynamic(k); ok {
				return def.def
			}
			return ""
		}
	default:
		return fail(errInvalidRequest, "unsupported resource type %d", typ)
	}

	next := make(map[string]string, len(cur))
	if !replace {
		for k, v := range cur {
			next[k] = v
		}
	}
	for _, op := range ops {
		switch op.op {
		case kmsg.IncrementalAlterConfigOpSet:
			if op.value == nil {
				return fail(errInvalidConfig, "null value not supported for %s", op.name)
			}
			next[op.name] = *op.value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(next, op.name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if def := topicConfigByName[op.name]; typ != kmsg.ConfigResourceTypeTopic || def == nil || def.typ != kmsg.ConfigTypeList {
				return fail(errInvalidConfig, "config %s is not a list; APPEND and SUBTRACT apply to list configs only", op.name)
			}
			if op.value == nil {
				return fail(errInvalidConfig, "null value not supported for %s", op.name)
			}
			base, ok := next[op.name]
			if !ok {
				base = defaultOf(op.name)
			}
			next[op.name] = listEdit(base, *op.value, op.op == kmsg.IncrementalAlterConfigOpAppend)
		default:
			return fail(errInvalidRequest, "unknown config operation %d", op.op)
		}
	}
	for k, v := range next {
		if err := check(k, v); err != nil {
			return err
		}
	}
	if validateOnly {
		return nil
	}
	var err error
	if typ == kmsg.ConfigResourceTypeTopic {
		err = b.meta.ReplaceTopicConfigs(ctx, name, next)
	} else {
		set := make(map[string]string, len(next))
		var del []string
		for k, v := range next {
			set[brokerKey(name, k)] = v
		}
		for k := range cur {
			if _, ok := next[k]; !ok {
				del = append(del, brokerKey(name, k))
			}
		}
		err = b.meta.AlterBrokerConfigs(ctx, set, del)
	}
	if err != nil {
		return err
	}
	return b.reconcile()
}

// listEdit appends items to or removes them from a comma-separated list.
func listEdit(base, items string, add bool) string {
	var out []string
	for _, s := range strings.Split(base, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	for _, s := range strings.Split(items, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		i := slices.Index(out, s)
		switch {
		case add && i < 0:
			out = append(out, s)
		case !add && i >= 0:
			out = slices.Delete(out, i, i+1)
		}
	}
	return strings.Join(out, ",")
}
