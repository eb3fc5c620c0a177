package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/stagingkit/terraform-provider-staging/internal/scaling"
)

// errUnknownValue reports a value that is not known yet (plan time).
var errUnknownValue = errors.New("value is not known yet")

// toGo converts a Terraform value of any type into the plain Go values the
// domain packages take: map[string]any for objects and maps, []any for
// lists, tuples and sets, string, float64, bool, and nil for null. It fails
// with errUnknownValue (wrapped, naming the path) when any part is unknown.
func toGo(ctx context.Context, v attr.Value) (any, error) {
	return toGoAt(ctx, v, "")
}

func toGoAt(ctx context.Context, v attr.Value, at string) (any, error) {
	if v == nil || v.IsNull() {
		return nil, nil
	}
	if v.IsUnknown() {
		if at == "" {
			return nil, errUnknownValue
		}
		return nil, fmt.Errorf("%s: %w", at, errUnknownValue)
	}
	join := func(k string) string {
		if at == "" {
			return k
		}
		return at + "." + k
	}
	switch x := v.(type) {
	case basetypes.DynamicValue:
		return toGoAt(ctx, x.UnderlyingValue(), at)
	case basetypes.StringValue:
		return x.ValueString(), nil
	case basetypes.BoolValue:
		return x.ValueBool(), nil
	case basetypes.NumberValue:
		f, _ := x.ValueBigFloat().Float64()
		return f, nil
	case basetypes.Int64Value:
		return float64(x.ValueInt64()), nil
	case basetypes.Float64Value:
		return x.ValueFloat64(), nil
	case basetypes.ObjectValue:
		return mapToGo(ctx, x.Attributes(), join)
	case basetypes.MapValue:
		return mapToGo(ctx, x.Elements(), join)
	case basetypes.ListValue:
		return listToGo(ctx, x.Elements(), join)
	case basetypes.TupleValue:
		return listToGo(ctx, x.Elements(), join)
	case basetypes.SetValue:
		return listToGo(ctx, x.Elements(), join)
	}
	return nil, fmt.Errorf("%s: unsupported value type %s", at, v.Type(ctx))
}

func mapToGo(ctx context.Context, m map[string]attr.Value, join func(string) string) (any, error) {
	out := make(map[string]any, len(m))
	for k, e := range m {
		g, err := toGoAt(ctx, e, join(k))
		if err != nil {
			return nil, err
		}
		out[k] = g
	}
	return out, nil
}

func listToGo(ctx context.Context, l []attr.Value, join func(string) string) (any, error) {
	out := make([]any, len(l))
	for i, e := range l {
		g, err := toGoAt(ctx, e, join(fmt.Sprint(i)))
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

// fromGo converts plain Go values back into a Terraform value: objects for
// maps (so that each attribute keeps its own type), tuples for slices. nil
// becomes a null string, the most neutral typed null.
func fromGo(v any) (attr.Value, error) {
	switch x := v.(type) {
	case nil:
		return types.StringNull(), nil
	case string:
		return types.StringValue(x), nil
	case bool:
		return types.BoolValue(x), nil
	case float64:
		return types.NumberValue(big.NewFloat(x)), nil
	case int:
		return types.NumberValue(new(big.Float).SetInt64(int64(x))), nil
	case int64:
		return types.NumberValue(new(big.Float).SetInt64(x)), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrTypes := make(map[string]attr.Type, len(x))
		values := make(map[string]attr.Value, len(x))
		for _, k := range keys {
			e, err := fromGo(x[k])
			if err != nil {
				return nil, err
			}
			attrTypes[k] = e.Type(context.Background())
			values[k] = e
		}
		obj, diags := types.ObjectValue(attrTypes, values)
		if diags.HasError() {
			return nil, fmt.Errorf("building an object: %v", diags)
		}
		return obj, nil
	case []any:
		elemTypes := make([]attr.Type, len(x))
		values := make([]attr.Value, len(x))
		for i, e := range x {
			ev, err := fromGo(e)
			if err != nil {
				return nil, err
			}
			elemTypes[i] = ev.Type(context.Background())
			values[i] = ev
		}
		tup, diags := types.TupleValue(elemTypes, values)
		if diags.HasError() {
			return nil, fmt.Errorf("building a tuple: %v", diags)
		}
		return tup, nil
	case []string:
		anys := make([]any, len(x))
		for i, s := range x {
			anys[i] = s
		}
		return fromGo(anys)
	case map[string]string:
		anys := make(map[string]any, len(x))
		for k, s := range x {
			anys[k] = s
		}
		return fromGo(anys)
	}
	return nil, fmt.Errorf("cannot convert %T to a Terraform value", v)
}

// plainValue renders a fact for a list a person reads in a plan: strings as
// they are, anything else as scaling.FormatValue writes it (numbers bare,
// objects as JSON, null as "null").
func plainValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return scaling.FormatValue(v)
}
