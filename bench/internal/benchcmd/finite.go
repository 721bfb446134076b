package benchcmd

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// makeFinite makes every number of the report finite, so that every output
// is valid and readable: encoding/json refuses NaN and ±Inf, and a table,
// a CSV file or a chart would show them as "NaN" or "+Inf".
//
// The Che check's characteristic time is infinite when the LRU holds every
// key: that becomes HoldsAll with a time of 0. Any other NaN or ±Inf, which
// no code should produce, becomes 0 with a note naming the field.
func (r *Report) makeFinite() {
	if ch := r.Che; ch != nil && math.IsInf(ch.T, 1) {
		ch.T, ch.HoldsAll = 0, true
	}
	walkFloats(reflect.ValueOf(r).Elem(), "report", func(path string, v reflect.Value) {
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			r.Notes = append(r.Notes, fmt.Sprintf("%s was %v, written as 0", path, f))
			v.SetFloat(0)
		}
	})
}

// walkFloats calls fn with every settable float field reachable from v
// (structs, pointers, slices), named by its JSON path.
func walkFloats(v reflect.Value, path string, fn func(string, reflect.Value)) {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		fn(path, v)
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkFloats(v.Elem(), path, fn)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkFloats(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				walkFloats(v.Field(i), path+"."+jsonName(f), fn)
			}
		}
	}
}

// jsonName is the name of a struct field in the JSON report.
func jsonName(f reflect.StructField) string {
	if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
		return name
	}
	return f.Name
}
