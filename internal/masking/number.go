package masking

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

func init() {
	register(entry{
		info: Info{Name: "number_noise",
			Description: "Multiplies a number by a keyed, deterministic factor in [1-ratio, 1+ratio], keeping its sign and its number of decimal places; NaN and infinities are kept. Works on integer, numeric and float text.",
			Options: []OptionInfo{
				{Name: "ratio", Type: "number", Description: "Largest relative change, greater than 0 and below 1 (default 0.1)."},
				{Name: "min", Type: "number", Description: "Smallest output value (optional), e.g. to stay within a column's range."},
				{Name: "max", Type: "number", Description: "Largest output value (optional)."},
			}},
		version: 3, validate: true, make: newNumberNoise,
	})
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

func newNumberNoise(b *build) (built, error) {
	ratio, err := b.opts.number("ratio", 0.1)
	if err != nil {
		return built{}, err
	}
	if !(ratio > 0 && ratio < 1) {
		return built{}, optionErr("number_noise", "ratio", "must be greater than 0 and below 1; got %v", ratio)
	}
	lo, err := b.opts.number("min", math.Inf(-1))
	if err != nil {
		return built{}, err
	}
	hi, err := b.opts.number("max", math.Inf(1))
	if err != nil {
		return built{}, err
	}
	if lo > hi {
		return built{}, optionErr("number_noise", "min", "must not be greater than max (%v > %v)", lo, hi)
	}
	blk, err := b.block("noise")
	if err != nil {
		return built{}, err
	}
	p := prf{blk}
	return built{passEmpty: true, body: func(dst, src []byte) ([]byte, error) {
		switch string(src) {
		case "NaN", "Infinity", "-Infinity", "inf", "-inf":
			return append(dst, src...), nil
		}
		i, neg := 0, false
		if src[0] == '+' || src[0] == '-' {
			neg, i = src[0] == '-', 1
		}
		var mant int64
		digits, scale, point, exp, saw := 0, 0, false, false, false
		for ; i < len(src); i++ {
			c := src[i]
			switch {
			case isDigit(c):
				saw = true
				if digits > 0 || c != '0' {
					digits++
				}
				if digits <= 18 {
					mant = mant*10 + int64(c-'0')
				}
				if point {
					scale++
				}
			case c == '.' && !point:
				point = true
			case c == 'e' || c == 'E':
				exp = true
			default:
				if !exp {
					return dst, invalidReason("not a number")
				}
			}
			if exp {
				break
			}
		}
		if !saw {
			return dst, invalidReason("not a number")
		}
		scratch, dst := withScratch(dst, 16)
		h, _ := p.sum(scratch, 0, src)
		factor := 1 + ratio*(2*(float64(h>>11)/(1<<53))-1)
		if !exp && (digits > 15 || scale > 15) {
			// More significant digits than float64 holds (bigint's range,
			// long numerics): exact decimal arithmetic, written with the
			// input's decimal places and without an exponent, which
			// PostgreSQL's integer types refuse and numeric would not
			// write.
			return noiseDecimal(dst, src, factor, lo, hi, scale)
		}
		if exp {
			v, err := strconv.ParseFloat(string(src), 64)
			if err != nil || math.IsInf(v, 0) {
				return dst, invalidReason("not a number within float8 range")
			}
			v = math.Max(lo, math.Min(hi, v*factor))
			return strconv.AppendFloat(dst, v, 'g', -1, 64), nil
		}
		if neg {
			mant = -mant
		}
		nm := math.Round(float64(mant) * factor)
		if nm == 0 && mant != 0 {
			nm = float64(mant / max(1, abs64(mant))) // smallest unit, same sign
		}
		if v := nm / pow10[scale]; v < lo {
			nm = math.Ceil(lo * pow10[scale])
		} else if v > hi {
			nm = math.Floor(hi * pow10[scale])
		}
		if math.Abs(nm) >= 1e18 {
			return strconv.AppendFloat(dst, nm/pow10[scale], 'f', scale, 64), nil
		}
		m := int64(nm)
		if m < 0 {
			dst = append(dst, '-')
			m = -m
		}
		var buf [20]byte
		k := len(buf)
		for j := 0; j < scale || m > 0 || k == len(buf); j++ {
			k--
			buf[k] = byte('0' + m%10)
			m /= 10
		}
		intDigits := len(buf) - k - scale
		if intDigits <= 0 {
			dst = append(dst, '0')
		} else {
			dst = append(dst, buf[k:k+intDigits]...)
		}
		if scale > 0 {
			dst = append(dst, '.')
			dst = append(dst, buf[len(buf)-scale:]...)
		}
		return dst, nil
	}}, nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// noiseDecimal multiplies a decimal number (no exponent) by factor
// exactly, to the nearest unit of its last decimal place, and writes it
// with the same number of decimal places. An integer within bigint's range
// stays within it, and the output within [lo, hi].
func noiseDecimal(dst, src []byte, factor, lo, hi float64, scale int) ([]byte, error) {
	unscaled := make([]byte, 0, len(src))
	for _, c := range src {
		if c != '.' {
			unscaled = append(unscaled, c)
		}
	}
	v, ok := new(big.Int).SetString(string(unscaled), 10)
	if !ok {
		return dst, invalidReason("not a number")
	}
	const prec = 256
	f := new(big.Float).SetPrec(prec).SetInt(v)
	f.Mul(f, new(big.Float).SetPrec(prec).SetFloat64(factor))
	// Round half away from zero.
	half := big.NewFloat(0.5)
	if f.Sign() < 0 {
		half.Neg(half)
	}
	f.Add(f, half)
	r, _ := f.Int(nil)
	if r.Sign() == 0 && v.Sign() != 0 {
		r.SetInt64(int64(v.Sign())) // the smallest unit, same sign
	}
	if scale == 0 && v.IsInt64() {
		r = clampBig(r, big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64))
	}
	unit := new(big.Float).SetPrec(prec).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	if !math.IsInf(lo, -1) {
		l := new(big.Float).SetPrec(prec).SetFloat64(lo)
		li, acc := l.Mul(l, unit).Int(nil)
		if acc == big.Below { // truncated towards zero from a positive value: ceil
			li.Add(li, big.NewInt(1))
		}
		if r.Cmp(li) < 0 {
			r = li
		}
	}
	if !math.IsInf(hi, 1) {
		h := new(big.Float).SetPrec(prec).SetFloat64(hi)
		hi, acc := h.Mul(h, unit).Int(nil)
		if acc == big.Above { // truncated towards zero from a negative value: floor
			hi.Sub(hi, big.NewInt(1))
		}
		if r.Cmp(hi) > 0 {
			r = hi
		}
	}
	if r.Sign() < 0 {
		dst = append(dst, '-')
	}
	d := new(big.Int).Abs(r).String()
	if len(d) <= scale {
		d = strings.Repeat("0", scale-len(d)+1) + d
	}
	dst = append(dst, d[:len(d)-scale]...)
	if scale > 0 {
		dst = append(dst, '.')
		dst = append(dst, d[len(d)-scale:]...)
	}
	return dst, nil
}

func clampBig(v, lo, hi *big.Int) *big.Int {
	if v.Cmp(lo) < 0 {
		return lo
	}
	if v.Cmp(hi) > 0 {
		return hi
	}
	return v
}
