;; Element-wise kernels for the wasm backend, run in place on the backend's own heap (its memory is imported).
;; Assembled by tools/kernels/assemble.mjs into kernels-wasm.ts (base64); a test keeps the two in sync.
;; Addresses are byte offsets of float32 tensors in that heap; 128-bit SIMD, four floats per instruction.
(module
  (import "env" "memory" (memory 1))

  ;; u + u*erf(u) = u + |u|*erf(|u|), the GELU of the Swin MLP with its 1/sqrt(2) folded into the weights around it.
  ;; erf(a) = a*P(a^2)/Q(a^2) with a = min(|u|, 3.92) (float32 erf is 1 beyond), P and Q of degree 5 fitted by
  ;; tools/kernels/fit_erf.py: |error| <= 3.8e-7 in float32 against scipy's erf. Eight floats per step: two vectors
  ;; whose steps are interleaved, two independent dependency chains that keep the CPU busy (20% faster than one; a
  ;; function per vector is slower, V8 does not inline it).
  ;; dst[i] = u + u*erf(u) for u = src[i], i < n, n >= 8. The last step is taken at n-8, overlapping the one before
  ;; when n is not a multiple of 8 (src and dst are distinct tensors, so recomputing an element is harmless).
  (func (export "gelu") (param $src i32) (param $dst i32) (param $n i32)
    (local $off i32) (local $end i32) (local $at i32)
    (local $u0 v128) (local $a0 v128) (local $t0 v128) (local $p0 v128) (local $q0 v128)
    (local $u1 v128) (local $a1 v128) (local $t1 v128) (local $p1 v128) (local $q1 v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $at (select (local.get $off) (i32.sub (local.get $end) (i32.const 32))
          (i32.le_u (i32.add (local.get $off) (i32.const 32)) (local.get $end))))
        (local.set $u0 (v128.load (i32.add (local.get $src) (local.get $at))))
        (local.set $u1 (v128.load offset=16 (i32.add (local.get $src) (local.get $at))))
        (local.set $a0 (f32x4.min (f32x4.abs (local.get $u0)) (v128.const f32x4 3.92 3.92 3.92 3.92)))
        (local.set $a1 (f32x4.min (f32x4.abs (local.get $u1)) (v128.const f32x4 3.92 3.92 3.92 3.92)))
        (local.set $t0 (f32x4.mul (local.get $a0) (local.get $a0)))
        (local.set $t1 (f32x4.mul (local.get $a1) (local.get $a1)))
        ;; P, Horner from the highest degree
        (local.set $p0 (v128.const f32x4 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06))
        (local.set $p1 (v128.const f32x4 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06 2.0346926703496138e-06))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247 0.0002874767524190247)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577 0.0038683265447616577)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.05306045338511467 0.05306045338511467 0.05306045338511467 0.05306045338511467)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.05306045338511467 0.05306045338511467 0.05306045338511467 0.05306045338511467)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 0.19276432693004608 0.19276432693004608 0.19276432693004608 0.19276432693004608)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 0.19276432693004608 0.19276432693004608 0.19276432693004608 0.19276432693004608)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $t0)) (v128.const f32x4 1.128378987312317 1.128378987312317 1.128378987312317 1.128378987312317)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $t1)) (v128.const f32x4 1.128378987312317 1.128378987312317 1.128378987312317 1.128378987312317)))
        ;; Q
        (local.set $q0 (v128.const f32x4 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05))
        (local.set $q1 (v128.const f32x4 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05 3.807008033618331e-05))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567 0.0011881105601787567)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.015172289684414864 0.015172289684414864 0.015172289684414864 0.015172289684414864)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.015172289684414864 0.015172289684414864 0.015172289684414864 0.015172289684414864)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.11508467048406601 0.11508467048406601 0.11508467048406601 0.11508467048406601)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.11508467048406601 0.11508467048406601 0.11508467048406601 0.11508467048406601)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 0.5041645765304565 0.5041645765304565 0.5041645765304565 0.5041645765304565)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 0.5041645765304565 0.5041645765304565 0.5041645765304565 0.5041645765304565)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $t0)) (v128.const f32x4 1 1 1 1)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $t1)) (v128.const f32x4 1 1 1 1)))
        ;; u + |u| * (a*P/Q)
        (v128.store (i32.add (local.get $dst) (local.get $at))
          (f32x4.add (local.get $u0) (f32x4.mul (f32x4.abs (local.get $u0))
            (f32x4.div (f32x4.mul (local.get $a0) (local.get $p0)) (local.get $q0)))))
        (v128.store offset=16 (i32.add (local.get $dst) (local.get $at))
          (f32x4.add (local.get $u1) (f32x4.mul (f32x4.abs (local.get $u1))
            (f32x4.div (f32x4.mul (local.get $a1) (local.get $p1)) (local.get $q1)))))
        (local.set $off (i32.add (local.get $off) (i32.const 32)))
        (br $next))))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; LayerNorm without its affine part over rows of `cols` floats (cols a multiple of 4, >= 4):
  ;; dst = (x - mean) / sqrt(var + eps), biased variance, both from the row in two passes.
  (func (export "normalize") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $eps f32)
    (local $end i32) (local $p i32) (local $o i32) (local $n f32)
    (local $acc v128) (local $m v128) (local $d v128) (local $r v128)
    (local.set $n (f32.convert_i32_u (local.get $cols)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.eqz (local.get $rows)))
        (local.set $end (i32.add (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
        ;; mean
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $src))
        (loop $sum
          (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $sum (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $m (f32x4.splat (f32.div (call $hsum (local.get $acc)) (local.get $n))))
        ;; variance around the mean
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $src))
        (loop $var
          (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $m)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $var (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $r (f32x4.splat (f32.div (f32.const 1)
          (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (local.get $n)) (local.get $eps))))))
        ;; output
        (local.set $p (local.get $src))
        (local.set $o (local.get $dst))
        (loop $out
          (v128.store (local.get $o) (f32x4.mul (f32x4.sub (v128.load (local.get $p)) (local.get $m)) (local.get $r)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $out (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $src (local.get $end))
        (local.set $dst (local.get $o))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; exp(x) for x <= 0 (softmax after subtracting the row maximum): x = k*ln2 + r with k = nearest(x/ln2) and
  ;; |r| <= ln2/2 (ln2 in two parts, the high one exact in float32), e^r by its Taylor polynomial of degree 7
  ;; (truncation 5e-9 relative), times 2^k built in the exponent bits. x is clamped at -87 (e^-87 = 1.6e-38, the
  ;; smallest normal float32 range), where the exact value, < 1.6e-38, makes no difference to a softmax sum >= 1.
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (local.get $x) (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $x)
      (v128.const f32x4 1.4426950408889634 1.4426950408889634 1.4426950408889634 1.4426950408889634))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $k)
      (v128.const f32x4 0.693145751953125 0.693145751953125 0.693145751953125 0.693145751953125))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k)
      (v128.const f32x4 1.4286068203094172e-06 1.4286068203094172e-06 1.4286068203094172e-06 1.4286068203094172e-06))))
    (local.set $p (v128.const f32x4 1.984126984126984e-04 1.984126984126984e-04 1.984126984126984e-04 1.984126984126984e-04))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (v128.const f32x4 1.388888888888889e-03 1.388888888888889e-03 1.388888888888889e-03 1.388888888888889e-03)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (v128.const f32x4 8.333333333333333e-03 8.333333333333333e-03 8.333333333333333e-03 8.333333333333333e-03)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (v128.const f32x4 4.1666666666666664e-02 4.1666666666666664e-02 4.1666666666666664e-02 4.1666666666666664e-02)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (v128.const f32x4 0.16666666666666666 0.16666666666666666 0.16666666666666666 0.16666666666666666)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    ;; 2^k: k + 127 in the exponent field (k >= -126 after the clamp)
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127))
        (i32.const 23))))

  ;; Swin window attention of every window and head, out = softmax(q*k^T + bias) * v, in the layout the linear layers
  ;; produce: q, k, v and out are [windows*n, heads*d] row-major (token rows in window order, head h in columns
  ;; h*d .. h*d+d), bias is [period, heads, n, n] (relative-position bias, plus the shift mask when period is the
  ;; number of windows per image; period 1 otherwise), window w using bias window w mod period. q is already scaled.
  ;; Needs n >= 4 and d a multiple of 16; scratch holds 2*n floats (a row of scores, a row of exponentials).
  ;; Per query row: scores against four keys at a time (the last block overlaps the one before when 4 does not divide
  ;; n), each a dot product over d reduced by a 4x4 shuffle-transpose; the row max; exponentials; their sum; then the
  ;; output row in chunks of 16 columns, sum_j e_j * v_j, scaled by 1/sum.
  (func (export "attention")
    (param $q i32) (param $k i32) (param $v i32) (param $bias i32) (param $out i32) (param $scratch i32)
    (param $windows i32) (param $period i32) (param $n i32) (param $heads i32) (param $d i32)
    (local $row i32) (local $nb i32) (local $db i32) (local $last i32) (local $erow i32)
    (local $w i32) (local $h i32) (local $i i32) (local $at i32) (local $t i32) (local $j i32)
    (local $base i32) (local $hoff i32) (local $bias0 i32) (local $qi i32) (local $k0 i32) (local $vj i32) (local $oi i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $qv v128)
    (local $vmax v128) (local $m v128) (local $inv v128) (local $p v128)
    (local $sum f32)
    (local.set $row (i32.shl (i32.mul (local.get $heads) (local.get $d)) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $db (i32.shl (local.get $d) (i32.const 2)))
    (local.set $last (i32.sub (local.get $nb) (i32.const 16)))
    (local.set $erow (i32.add (local.get $scratch) (local.get $nb)))
    (local.set $w (i32.const 0))
    (loop $window
      (local.set $base (i32.mul (i32.mul (local.get $w) (local.get $n)) (local.get $row)))
      (local.set $h (i32.const 0))
      (loop $head
        (local.set $hoff (i32.mul (local.get $h) (local.get $db)))
        (local.set $bias0 (i32.add (local.get $bias)
          (i32.mul (i32.add (i32.mul (i32.rem_u (local.get $w) (local.get $period)) (local.get $heads)) (local.get $h))
            (i32.mul (local.get $nb) (local.get $n)))))
        (local.set $i (i32.const 0))
        (loop $query
          (local.set $qi (i32.add (local.get $q)
            (i32.add (i32.add (local.get $base) (i32.mul (local.get $i) (local.get $row))) (local.get $hoff))))
          ;; scores s_j = q_i . k_j + bias[i, j], four keys per block
          (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
          (local.set $j (i32.const 0))
          (loop $keys
            (local.set $at (select (local.get $j) (local.get $last) (i32.le_u (local.get $j) (local.get $last))))
            (local.set $k0 (i32.add (local.get $k) (i32.add (i32.add (local.get $base)
              (i32.mul (i32.shr_u (local.get $at) (i32.const 2)) (local.get $row))) (local.get $hoff))))
            (local.set $acc0 (v128.const f32x4 0 0 0 0))
            (local.set $acc1 (v128.const f32x4 0 0 0 0))
            (local.set $acc2 (v128.const f32x4 0 0 0 0))
            (local.set $acc3 (v128.const f32x4 0 0 0 0))
            (local.set $t (i32.const 0))
            (loop $dot
              (local.set $qv (v128.load (i32.add (local.get $qi) (local.get $t))))
              (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $qv)
                (v128.load (i32.add (local.get $k0) (local.get $t))))))
              (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $qv)
                (v128.load (i32.add (i32.add (local.get $k0) (local.get $row)) (local.get $t))))))
              (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $qv)
                (v128.load (i32.add (i32.add (local.get $k0) (i32.shl (local.get $row) (i32.const 1))) (local.get $t))))))
              (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $qv)
                (v128.load (i32.add (i32.add (local.get $k0) (i32.mul (local.get $row) (i32.const 3))) (local.get $t))))))
              (local.set $t (i32.add (local.get $t) (i32.const 16)))
              (br_if $dot (i32.lt_u (local.get $t) (local.get $db))))
            ;; [a b c d] lanes summed: pairwise interleave, add, then halves
            (local.set $acc0 (f32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc0) (local.get $acc1))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc0) (local.get $acc1))))
            (local.set $acc2 (f32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc2) (local.get $acc3))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc2) (local.get $acc3))))
            (local.set $acc0 (f32x4.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $acc0) (local.get $acc2))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $acc0) (local.get $acc2))))
            (local.set $acc0 (f32x4.add (local.get $acc0)
              (v128.load (i32.add (i32.add (local.get $bias0) (i32.mul (local.get $i) (local.get $nb))) (local.get $at)))))
            (v128.store (i32.add (local.get $scratch) (local.get $at)) (local.get $acc0))
            (local.set $vmax (f32x4.max (local.get $vmax) (local.get $acc0)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $keys (i32.lt_u (local.get $j) (local.get $nb))))
          ;; row maximum
          (local.set $vmax (f32x4.max (local.get $vmax)
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vmax) (local.get $vmax))))
          (local.set $m (f32x4.max (local.get $vmax)
            (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $vmax) (local.get $vmax))))
          ;; e_j = exp(s_j - max) (overlapping blocks recompute the same values)
          (local.set $j (i32.const 0))
          (loop $exps
            (local.set $at (select (local.get $j) (local.get $last) (i32.le_u (local.get $j) (local.get $last))))
            (v128.store (i32.add (local.get $erow) (local.get $at))
              (call $exp (f32x4.sub (v128.load (i32.add (local.get $scratch) (local.get $at))) (local.get $m))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $exps (i32.lt_u (local.get $j) (local.get $nb))))
          ;; their sum: whole blocks, then the remaining 0-3 values
          (local.set $acc0 (v128.const f32x4 0 0 0 0))
          (local.set $j (i32.const 0))
          (block $whole
            (loop $sumv
              (br_if $whole (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $nb)))
              (local.set $acc0 (f32x4.add (local.get $acc0) (v128.load (i32.add (local.get $erow) (local.get $j)))))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br $sumv)))
          (local.set $sum (call $hsum (local.get $acc0)))
          (block $tail
            (loop $sums
              (br_if $tail (i32.ge_u (local.get $j) (local.get $nb)))
              (local.set $sum (f32.add (local.get $sum) (f32.load (i32.add (local.get $erow) (local.get $j)))))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $sums)))
          (local.set $inv (f32x4.splat (f32.div (f32.const 1) (local.get $sum))))
          ;; out_i = (sum_j e_j v_j) / sum, 16 columns at a time
          (local.set $oi (i32.add (local.get $out)
            (i32.add (i32.add (local.get $base) (i32.mul (local.get $i) (local.get $row))) (local.get $hoff))))
          (local.set $t (i32.const 0))
          (loop $cols
            (local.set $acc0 (v128.const f32x4 0 0 0 0))
            (local.set $acc1 (v128.const f32x4 0 0 0 0))
            (local.set $acc2 (v128.const f32x4 0 0 0 0))
            (local.set $acc3 (v128.const f32x4 0 0 0 0))
            (local.set $vj (i32.add (local.get $v) (i32.add (i32.add (local.get $base) (local.get $hoff)) (local.get $t))))
            (local.set $j (i32.const 0))
            (loop $values
              (local.set $p (v128.load32_splat (i32.add (local.get $erow) (local.get $j))))
              (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $p) (v128.load (local.get $vj)))))
              (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $p) (v128.load offset=16 (local.get $vj)))))
              (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $p) (v128.load offset=32 (local.get $vj)))))
              (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $p) (v128.load offset=48 (local.get $vj)))))
              (local.set $vj (i32.add (local.get $vj) (local.get $row)))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br_if $values (i32.lt_u (local.get $j) (local.get $nb))))
            (v128.store (i32.add (local.get $oi) (local.get $t)) (f32x4.mul (local.get $acc0) (local.get $inv)))
            (v128.store offset=16 (i32.add (local.get $oi) (local.get $t)) (f32x4.mul (local.get $acc1) (local.get $inv)))
            (v128.store offset=32 (i32.add (local.get $oi) (local.get $t)) (f32x4.mul (local.get $acc2) (local.get $inv)))
            (v128.store offset=48 (i32.add (local.get $oi) (local.get $t)) (f32x4.mul (local.get $acc3) (local.get $inv)))
            (local.set $t (i32.add (local.get $t) (i32.const 64)))
            (br_if $cols (i32.lt_u (local.get $t) (local.get $db))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $query (i32.lt_u (local.get $i) (local.get $n))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br_if $head (i32.lt_u (local.get $h) (local.get $heads))))
      (local.set $w (i32.add (local.get $w) (i32.const 1)))
      (br_if $window (i32.lt_u (local.get $w) (local.get $windows)))))
)
