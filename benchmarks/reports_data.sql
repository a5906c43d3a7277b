-- 1,000,000 referrals (:n), their audit events, outbox messages and duplicate links, made by
-- PostgreSQL itself (generate_series), on a migrated, empty schema. Reproducible (setseed).
-- Shape: 5 authorities of 20 officers each, 40 referring organisations, 4 years (2023-2026)
-- of referrals, 85% received in working hours, about 700,000 people (so some are referred
-- again), older referrals closed with a spread of outcomes, the last two weeks mostly open
-- (about 70 open cases per officer, against a capacity of 60: a busy team).
SELECT setseed(0.42);

INSERT INTO authorities (id, code, name, team_phone, team_email, participating,
                         contact_working_days, contact_due_time, created_at)
SELECT gen_random_uuid(), 'E0700024' || g, 'Bench Authority ' || g, NULL, NULL, true, 2,
       '17:00', now()
FROM generate_series(1, 5) g;

INSERT INTO organisations (id, name, type, ods_code, created_at)
SELECT gen_random_uuid(), 'Bench Organisation ' || lpad(g::text, 2, '0'),
       (ARRAY['prison', 'youth_offender_institution', 'secure_training_centre', 'secure_college',
              'youth_offending_team', 'probation', 'jobcentre', 'adult_social_care',
              'children_social_care', 'hospital_emergency_department',
              'urgent_treatment_centre', 'hospital_inpatient', 'mental_health_service',
              'armed_forces', 'other_public_body', 'voluntary_sector'])[1 + g % 16],
       NULL, now()
FROM generate_series(0, 39) g;

INSERT INTO users (id, email, name, role, authority_id, organisation_id, specialisms, patches,
                   capacity, last_assigned_at, password_hash, active, created_at)
SELECT gen_random_uuid(), 'officer' || g || '@' || a.code || '.bench.example',
       'Officer ' || a.code || ' ' || lpad(g::text, 2, '0'), 'officer', a.id, NULL, '[]', '[]',
       60, NULL, NULL, true, now()
FROM authorities a, generate_series(0, 19) g;

INSERT INTO users (id, email, name, role, authority_id, organisation_id, specialisms, patches,
                   capacity, last_assigned_at, password_hash, active, created_at)
SELECT gen_random_uuid(), 'leader@' || a.code || '.bench.example', 'Leader ' || a.code,
       'team_leader', a.id, NULL, '[]', '[]', NULL, NULL, NULL, true, now()
FROM authorities a;

CREATE TEMP TABLE bench_auth AS
  SELECT id, (row_number() OVER (ORDER BY code) - 1)::int AS n FROM authorities;
CREATE TEMP TABLE bench_org AS
  SELECT id, (row_number() OVER (ORDER BY name) - 1)::int AS n FROM organisations;
CREATE TEMP TABLE bench_officer AS
  SELECT u.id, a.n AS auth_n, (row_number() OVER (PARTITION BY u.authority_id
                                                  ORDER BY u.email) - 1)::int AS n
  FROM users u JOIN bench_auth a ON a.id = u.authority_id WHERE u.role = 'officer';

CREATE TEMP TABLE bench_base AS
SELECT g AS n, p, p % 5 AS auth_n,
       CASE WHEN r0 < 0.85 AND extract(isodow FROM t) < 6
            THEN date_trunc('day', t) + interval '9 hours' + r1 * interval '8 hours'
            ELSE t END AS received_at,
       r1, r2, r3, r4, r5
FROM (SELECT g, floor(random() * 700000)::int AS p,
             timestamptz '2023-01-01 00:00+00'
               + random() * (timestamptz '2026-11-30 00:00+00' - timestamptz '2023-01-01 00:00+00') AS t,
             random() AS r0, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
             random() AS r5
      FROM generate_series(1, :n) g) s;

CREATE TEMP TABLE bench_shaped AS
SELECT b.*,
       CASE WHEN b.received_at >= timestamptz '2026-11-16 00:00+00' THEN
              CASE WHEN r2 < 0.05 THEN 'unassigned' WHEN r2 < 0.25 THEN 'assigned'
                   WHEN r2 < 0.45 THEN 'accepted' WHEN r2 < 0.60 THEN 'contact_attempted'
                   WHEN r2 < 0.85 THEN 'contacted' ELSE 'closed' END
            WHEN r2 < 0.05 THEN 'withdrawn' WHEN r2 < 0.08 THEN 'transferred'
            ELSE 'closed' END AS status,
       CASE WHEN r3 < 0.30 THEN 'prevention_duty' WHEN r3 < 0.50 THEN 'relief_duty'
            WHEN r3 < 0.70 THEN 'advice_only' WHEN r3 < 0.75 THEN 'not_eligible'
            WHEN r3 < 0.87 THEN 'no_contact' WHEN r3 < 0.92 THEN 'declined'
            ELSE 'duplicate' END AS closing
FROM bench_base b;

INSERT INTO referrals (
  id, reference, status, outcome, version, authority_id, referring_organisation_id,
  named_officer_id, submitted_by_user_id, submitted_by_client_id, transferred_to_authority_id,
  transferred_from_id, referrer_name, referrer_job_title, referrer_team, referrer_email,
  referrer_phone, consent_given, consent_recorded_at, consent_notes, person_first_name,
  person_last_name, person_name_key, person_date_of_birth, person_nhs_number, person_phone,
  person_email, address_line1, address_line2, address_town, address_postcode, no_fixed_abode,
  preferred_contact_method, safe_sms, safe_voicemail, safe_email, safe_letter,
  safe_contact_instructions, language, interpreter_needed, household, housing_situation,
  at_risk_of_rough_sleeping_tonight, homelessness_date, release_or_discharge_date,
  current_location, reason, support_needs, risk_marac, risk_mappa_level, risk_mappa_category,
  risk_to_staff, risk_details, agency_reference, urgent, received_at, assigned_at,
  acknowledged_at, contact_due_by, first_contact_attempt_at, contacted_at, closed_at,
  closure_reason, updated_at)
SELECT gen_random_uuid(), 'DTR-B' || lpad(s.n::text, 7, '0'), s.status,
       CASE WHEN s.status = 'closed' THEN
              CASE WHEN s.received_at >= timestamptz '2026-11-16 00:00+00' THEN 'advice_only'
                   ELSE s.closing END
            WHEN s.status = 'transferred' THEN 'transferred' END,
       1, a.id, o.id,
       CASE WHEN s.status <> 'unassigned' THEN off.id END, NULL, 'bench-client', NULL, NULL,
       'Referrer ' || (s.n % 997), 'Probation Officer', 'Bench PDU',
       'referrer' || (s.n % 997) || '@partner.example', '+441632960001', true, s.received_at,
       'agreed in supervision', 'First' || s.p, 'Last' || s.p, 'first' || s.p || ' last' || s.p,
       date '1960-01-01' + (s.p % 15000),
       CASE WHEN s.p % 2 = 0 THEN lpad((9000000000 + s.p)::text, 10, '0') END,
       '+447700' || lpad((s.p % 1000000)::text, 6, '0'), NULL, 'Flat ' || (s.p % 90),
       (s.p % 200) || ' High Street', 'Welwyn', 'AL8 ' || (s.p % 9) || 'AB', false, 'sms', true,
       false, true, false, 'Do not leave messages with partner', 'en', false, '[]',
       CASE WHEN s.r4 < 0.4 THEN 'homeless' ELSE 'threatened_with_homelessness' END,
       s.r4 < 0.05, (s.received_at + interval '40 days')::date, NULL,
       'Private rented flat, section 21 notice served',
       'Section 21 notice expires soon; no savings for a deposit. Needs help finding somewhere.',
       '["mental_health"]', false, NULL, NULL, false, '', 'AGY-' || s.n, s.r4 < 0.05,
       s.received_at,
       CASE WHEN s.status <> 'unassigned' THEN s.received_at END,
       CASE WHEN s.status NOT IN ('unassigned', 'assigned') THEN s.received_at + s.r5 * interval '4 hours' END,
       CASE WHEN s.r4 < 0.05 THEN s.received_at + interval '6 hours'
            ELSE date_trunc('day', s.received_at) + interval '2 days 17 hours' END,
       t.attempt_at, t.contact_at,
       CASE WHEN s.status IN ('closed', 'withdrawn', 'transferred')
            THEN greatest(s.received_at, t.attempt_at, t.contact_at) + (1 + s.r1 * 20) * interval '1 day' END,
       NULL, s.received_at
FROM bench_shaped s
JOIN bench_auth a ON a.n = s.auth_n
JOIN bench_org o ON o.n = s.n % 40
-- (p / 5) % 20, not p % 20: p % 5 already chose the authority, and p % 20 would give each
-- authority's referrals to only 4 of its 20 officers.
JOIN bench_officer off ON off.auth_n = s.auth_n AND off.n = (s.p / 5) % 20
CROSS JOIN LATERAL (
  SELECT CASE WHEN s.status IN ('contact_attempted', 'contacted')
                OR (s.status = 'closed' AND s.received_at < timestamptz '2026-11-16 00:00+00'
                    AND s.closing <> 'duplicate')
                OR (s.status = 'closed' AND s.received_at >= timestamptz '2026-11-16 00:00+00')
              THEN s.received_at + s.r5 * s.r5 * interval '96 hours' END AS attempt_at,
         CASE WHEN s.status = 'contacted'
                OR (s.status = 'closed' AND s.received_at >= timestamptz '2026-11-16 00:00+00')
                OR (s.status = 'closed' AND s.received_at < timestamptz '2026-11-16 00:00+00'
                    AND s.closing IN ('prevention_duty', 'relief_duty', 'advice_only', 'not_eligible', 'declined'))
              THEN s.received_at + s.r5 * s.r5 * interval '96 hours' + s.r3 * interval '48 hours' END AS contact_at
) t
ORDER BY s.received_at;

-- The audit trail: one event per transition, as lifecycle.transition writes them.
INSERT INTO audit_events (id, occurred_at, actor_type, actor_user_id, actor_client_id,
                          actor_label, ip_address, action, subject_type, subject_id,
                          referral_id, from_status, to_status, details)
SELECT gen_random_uuid(), e.at, e.actor, NULL, NULL, e.label, NULL, 'referral.transition',
       'referral', r.id::text, r.id, e.from_status, e.to_status, '{}'
FROM referrals r
CROSS JOIN LATERAL (VALUES
  (r.received_at, 'system', 'system:routing', 'received',
   CASE WHEN r.status = 'unassigned' THEN 'unassigned' ELSE 'assigned' END),
  (r.acknowledged_at, 'user', 'officer@bench.example', 'assigned', 'accepted'),
  (CASE WHEN r.first_contact_attempt_at < r.contacted_at OR r.contacted_at IS NULL
        THEN r.first_contact_attempt_at END, 'user', 'officer@bench.example', 'accepted',
   'contact_attempted'),
  (r.contacted_at, 'user', 'officer@bench.example', 'contact_attempted', 'contacted'),
  (r.closed_at, 'user', 'officer@bench.example', 'contacted', r.status)
) AS e(at, actor, label, from_status, to_status)
WHERE e.at IS NOT NULL;

-- Messages: the referrer's acknowledgement and the officer's email, and the applicant's text.
INSERT INTO outbox_messages (id, referral_id, channel, audience, event, template, to_address,
                             subject, body, status, status_reason, not_before, expires_at,
                             enqueued_at, attempts, provider_id, provider_status, created_at,
                             claimed_at, sent_at, updated_at)
SELECT gen_random_uuid(), r.id, m.channel, m.audience, 'referral_received', m.template,
       m.address, m.subject,
       'Your referral ' || r.reference || ' has been received by the housing team. '
         || 'We will be in touch within two working days.',
       m.status, NULL, r.received_at, NULL, r.received_at, 1, NULL, NULL, r.received_at,
       r.received_at, CASE WHEN m.status IN ('sent', 'delivered', 'failed') THEN r.received_at END,
       r.received_at
FROM referrals r
CROSS JOIN LATERAL (VALUES
  ('email', 'referrer', 'referrer_acknowledgement', r.referrer_email, 'Referral received',
   CASE WHEN r.received_at > timestamptz '2026-11-29 23:00+00' THEN 'queued' ELSE 'sent' END),
  ('email', 'officer', 'officer_named', 'officer@bench.example', 'New referral', 'sent'),
  ('sms', 'applicant', 'applicant_received', r.person_phone, NULL,
   CASE WHEN r.agency_reference LIKE '%3' THEN 'suppressed'
        WHEN r.agency_reference LIKE '%17' THEN 'failed' ELSE 'delivered' END)
) AS m(channel, audience, template, address, subject, status);

-- Possible duplicates: 2% of referrals linked to the authority's previous one.
INSERT INTO possible_duplicates (id, referral_id, existing_referral_id, matched_on, decision,
                                 decided_by_id, decided_at, created_at)
SELECT gen_random_uuid(), id, previous_id, '["phone"]',
       CASE WHEN random() < 0.5 THEN 'confirmed' ELSE 'not_duplicate' END, NULL, NULL,
       received_at
FROM (SELECT id, received_at, lag(id) OVER (PARTITION BY authority_id ORDER BY received_at)
             AS previous_id
      FROM referrals) r
WHERE previous_id IS NOT NULL AND random() < 0.02;
