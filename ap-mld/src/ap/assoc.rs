//! (Re)association: reading the request, settling the keys (PMKSA cache, OWE, SAE),
//! accepting an MLD's links, the response with its per-STA profiles, and recording the
//! association before the 4-way handshake.

use super::*;

/// What a (re)association request asks for, read from its elements.
#[derive(Default)]
struct AssocRequest {
    /// The MLD address of its Basic Multi-Link element (an MLD's request).
    sta_mld: Option<MacAddr>,
    /// (link ID, link address) of each per-STA profile.
    requested: Vec<(u8, MacAddr)>,
    /// The OWE DH Parameter element's data.
    owe_dh: Option<Vec<u8>>,
    /// The RSNE and RSNXE, whole, as the 4-way handshake compares them.
    rsne: Option<Vec<u8>>,
    rsnxe: Option<Vec<u8>>,
    /// PMKIDs the RSNE names.
    pmkids: Vec<[u8; 16]>,
    /// Whether the RSNE asks for what the AP offers (AKM, CCMP, PMF); true when open.
    rsn_ok: bool,
}

/// The keys an association settles on.
#[derive(Default)]
struct AssocKeys {
    keys: Option<StaKeys>,
    /// The AP's OWE DH Parameter element, for the response.
    owe_reply: Option<Vec<u8>>,
    /// The PMK came from the PMKSA cache.
    cache_hit: bool,
}

/// The answer to an MLD's requested links.
struct LinkAnswer {
    /// (link index, station's link address), the link the request came on first.
    accepted: Vec<(usize, MacAddr)>,
    /// Link indices refused.
    rejected: Vec<usize>,
    /// A per-STA profile per requested link, for the response.
    profiles: Vec<StaProfile>,
}

impl ApMld {
    /// Answers a (re)association request heard on `link` from `sa`: reads what it asks for,
    /// settles its keys (PMKSA cache, OWE, SAE), assigns an AID, accepts the requested links,
    /// answers, and on success records the association and starts the 4-way handshake.
    pub(super) fn associate(
        &mut self,
        link: usize,
        sa: MacAddr,
        f: &Frame<&[u8]>,
        reassoc: bool,
        tsf_us: u64,
    ) -> Vec<Tx> {
        let fixed = if reassoc { 10 } else { 4 };
        let Some(elems_bytes) = f.payload().get(fixed..) else {
            return Vec::new();
        };
        let subtype = if reassoc {
            mgmt_subtype::REASSOC_RESP
        } else {
            mgmt_subtype::ASSOC_RESP
        };
        let Some(si) = self.station_index(link, sa) else {
            // Not authenticated: deauthenticate.
            let body = 6u16.to_le_bytes(); // class 2 frame from non-authenticated station
            return vec![self.mgmt(link, mgmt_subtype::DEAUTH, sa, &body)];
        };
        let req = self.parse_assoc_request(elems_bytes);
        // The PMKSA of the SAE authentication this request follows, if any.
        let auth_pmksa = self.stations[si]
            .pending_auth(link, sa)
            .and_then(|p| p.pmksa.clone());
        let (comeback, sa_query_request) = self.assoc_comeback(si, link, sa, tsf_us);
        if let sa_query::Comeback::After(tu) = comeback {
            self.counters.assoc_comebacks += 1;
            let body = self.comeback_response_body(link, si, &req, tu);
            let mut out = vec![self.mgmt(link, subtype, sa, &body)];
            out.extend(sa_query_request);
            return out;
        }
        let (mut status_code, keys) = match self.assoc_keys(sa, &req, auth_pmksa, tsf_us) {
            Ok(keys) => (status::SUCCESS, keys),
            Err(code) => (code, AssocKeys::default()),
        };
        let aid = if status_code == status::SUCCESS {
            match self.stations[si].aid {
                0 => self.next_aid().unwrap_or(0),
                a => a,
            }
        } else {
            0
        };
        if status_code == status::SUCCESS && aid == 0 {
            status_code = status::TOO_MANY_STATIONS;
        }
        if status_code == status::SUCCESS && keys.cache_hit {
            self.counters.pmksa_cache_hits += 1;
        }
        let links = self.accept_links(link, sa, &req, status_code);
        let body = self.assoc_response_body(link, status_code, aid, &keys, &req, &links.profiles);
        let mut out = vec![self.mgmt(link, subtype, sa, &body)];
        if status_code == status::SUCCESS {
            out.extend(self.record_association(si, aid, &req, links, keys, tsf_us));
        }
        out
    }

    /// What a (re)association request's elements ask for.
    fn parse_assoc_request(&self, elems_bytes: &[u8]) -> AssocRequest {
        let mut req = AssocRequest {
            rsn_ok: self.cfg.security == Security::Open,
            ..AssocRequest::default()
        };
        let our_akm = elements::akm(self.cfg.security);
        for e in ie::Elements::new(elems_bytes) {
            let Ok(e) = e else { break };
            match e.element_id() {
                ElementId::MultiLink => {
                    let mut scratch = vec![0u8; e.len()];
                    if let Ok(m) = MultiLinkRepr::parse_defragment(&e, &mut scratch) {
                        if m.kind == MultiLinkType::Basic {
                            req.sta_mld = m.common.mld_addr;
                            for p in m.per_sta_profiles() {
                                if let Some(a) = p.mac_addr() {
                                    req.requested.push((p.link_id(), a));
                                }
                            }
                        }
                    }
                }
                ElementId::Rsn => {
                    if let Some(d) = e.contiguous() {
                        if let Ok(r) = ie::RsnRepr::parse(d) {
                            req.rsn_ok = our_akm
                                .is_some_and(|akm| r.akms.is_some_and(|a| a.contains(akm)))
                                && r.pairwise.is_some_and(|p| p.contains(ie::Suite::CCMP_128))
                                && r.mfp_capable();
                            req.pmkids = r.pmkids.map(|l| l.iter().collect()).unwrap_or_default();
                            req.rsne = Some(whole_element(ie::id::RSN, None, d));
                        }
                    }
                }
                _ => {
                    if e.id == ie::id::EXTENSION && e.ext == Some(eid::EXT_OWE_DH) {
                        req.owe_dh = e.contiguous().map(<[u8]>::to_vec);
                    } else if e.id == ie::id::RSNX {
                        req.rsnxe = e.contiguous().map(|d| whole_element(ie::id::RSNX, None, d));
                    }
                }
            }
        }
        req
    }

    /// The body of a response that asks the station to come back after `tu` TUs (status 30)
    /// while an SA Query checks the association in place.
    fn comeback_response_body(
        &self,
        link: usize,
        si: usize,
        req: &AssocRequest,
        tu: u32,
    ) -> Vec<u8> {
        let l = &self.links[link];
        let mut body = elements::capability(&l.cfg, self.cfg.security)
            .to_le_bytes()
            .to_vec();
        body.extend_from_slice(&status::REJECTED_TEMPORARILY.to_le_bytes());
        body.extend_from_slice(&(self.stations[si].aid | 0xc000).to_le_bytes());
        body.extend_from_slice(&comeback_element(tu));
        if req.sta_mld.is_some() {
            elements::basic_ml_with_profiles(
                self.cfg.mld_addr,
                l.cfg.id,
                l.bpcc,
                self.active_links(),
                &[],
            )
            .write(&mut body);
        }
        body
    }

    /// The keys the association settles on, or the status code that refuses it.
    fn assoc_keys(
        &mut self,
        sa: MacAddr,
        req: &AssocRequest,
        auth_pmksa: Option<(Akm, Pmksa)>,
        tsf_us: u64,
    ) -> Result<AssocKeys, u16> {
        if !req.rsn_ok {
            return Err(status::INVALID_RSNE);
        }
        let sta_keys = |akm, pmksa| {
            StaKeys::new(
                akm,
                pmksa,
                req.rsne.clone().unwrap_or_default(),
                req.rsnxe.clone(),
            )
        };
        let cached = match auth_pmksa {
            None => self.cached_pmksa(req.sta_mld.unwrap_or(sa), &req.pmkids, tsf_us),
            Some(_) => None,
        };
        if let Some((akm, pmksa)) = cached {
            // PMKSA caching: the PMK of an earlier SAE exchange or OWE DH (for OWE the
            // response then carries no DH Parameter element, RFC 8110 4.2).
            return Ok(AssocKeys {
                keys: Some(sta_keys(akm, pmksa)),
                owe_reply: None,
                cache_hit: true,
            });
        }
        match self.cfg.security {
            Security::Open => Ok(AssocKeys::default()),
            Security::Owe => {
                let Some(Ok(param)) = req.owe_dh.as_deref().map(OweDhParam::parse_body) else {
                    return Err(status::UNSUPPORTED_GROUP);
                };
                if param.group != OWE_GROUP_P256 {
                    return Err(status::UNSUPPORTED_GROUP);
                }
                let pair = OweKeyPair::generate(&mut self.rng);
                let keys = pair
                    .ap_derive(&param)
                    .map_err(|_| status::UNSUPPORTED_GROUP)?;
                let mut el = Vec::new();
                pair.dh_param().emit_element(&mut el);
                let pmksa = Pmksa {
                    pmk: keys.pmk,
                    pmkid: keys.pmkid,
                };
                Ok(AssocKeys {
                    keys: Some(sta_keys(
                        Akm::Owe {
                            group: OWE_GROUP_P256,
                        },
                        pmksa,
                    )),
                    owe_reply: Some(el),
                    cache_hit: false,
                })
            }
            // The PMKSA of the SAE authentication just done; a PMKID in the RSNE must name it
            // (no PMKSA caching beyond that).
            Security::Sae => match auth_pmksa {
                Some((akm, pmksa))
                    if req.pmkids.is_empty() || req.pmkids.contains(&pmksa.pmkid) =>
                {
                    Ok(AssocKeys {
                        keys: Some(sta_keys(akm, pmksa)),
                        owe_reply: None,
                        cache_hit: false,
                    })
                }
                // Open System authentication without a cached PMKSA the RSNE names (or a
                // PMKID that is not the SAE one): the station must run SAE.
                _ => Err(status::INVALID_PMKID),
            },
        }
    }

    /// Which of the requested links are accepted (the ones that exist and operate), with a
    /// per-STA profile answering each request; all are refused when the association is.
    fn accept_links(
        &self,
        main_link: usize,
        sa: MacAddr,
        req: &AssocRequest,
        status_code: u16,
    ) -> LinkAnswer {
        let mut answer = LinkAnswer {
            accepted: vec![(main_link, sa)],
            rejected: Vec::new(),
            profiles: Vec::new(),
        };
        if req.sta_mld.is_none() {
            return answer;
        }
        for &(id, addr) in &req.requested {
            let Some(li) = self.links.iter().position(|l| l.cfg.id == id) else {
                continue;
            };
            if li == main_link || answer.accepted.iter().any(|(l, _)| *l == li) {
                continue;
            }
            let ok = !self.links[li].removed && self.links[li].removal.is_none();
            let link_status = if status_code == status::SUCCESS && ok {
                answer.accepted.push((li, addr));
                status::SUCCESS
            } else {
                answer.rejected.push(li);
                status::LINK_NOT_ACCEPTED
            };
            answer
                .profiles
                .push(self.assoc_profile(li, main_link, link_status));
        }
        answer
    }

    /// The (re)association response's body: fixed fields, then on success the link's elements
    /// and what the keys need (OWE DH, or an RSNE naming a cached PMKID), then for an MLD the
    /// Basic Multi-Link element with the per-STA profiles.
    fn assoc_response_body(
        &self,
        link: usize,
        status_code: u16,
        aid: u16,
        keys: &AssocKeys,
        req: &AssocRequest,
        profiles: &[StaProfile],
    ) -> Vec<u8> {
        let l = &self.links[link];
        let mut body = elements::capability(&l.cfg, self.cfg.security)
            .to_le_bytes()
            .to_vec();
        body.extend_from_slice(&status_code.to_le_bytes());
        body.extend_from_slice(&(aid | 0xc000).to_le_bytes());
        if status_code == status::SUCCESS {
            elements::write_all(&assoc_resp_elements(&l.elements), &mut body);
            if let Some(r) = &keys.owe_reply {
                body.extend_from_slice(r);
            }
            if keys.cache_hit && self.cfg.security == Security::Owe {
                // What tells an OWE station that the AP took its PMKID: an RSNE naming it
                // in place of the DH Parameter element (wpa_supplicant disconnects on a
                // response with neither).
                if let Some(pmkid) = keys.keys.as_ref().map(|k| k.pmksa.pmkid) {
                    body.extend(rsne_with_pmkid(&l.elements, pmkid));
                }
            }
        }
        if req.sta_mld.is_some() {
            elements::basic_ml_with_profiles(
                self.cfg.mld_addr,
                l.cfg.id,
                l.bpcc,
                self.active_links(),
                profiles,
            )
            .write(&mut body);
        }
        body
    }

    /// Records a successful association of station `si` and starts its 4-way handshake.
    fn record_association(
        &mut self,
        si: usize,
        aid: u16,
        req: &AssocRequest,
        links: LinkAnswer,
        keys: AssocKeys,
        tsf_us: u64,
    ) -> Vec<Tx> {
        let s = &mut self.stations[si];
        s.aid = aid;
        s.mlo = req.sta_mld.is_some();
        if let Some(m) = req.sta_mld {
            s.addr = m;
        }
        s.links = links.accepted;
        s.pending.clear();
        if let Some(k) = &keys.keys {
            if !keys.cache_hit {
                self.pmksa_cache
                    .insert(s.addr, k.akm, k.pmksa.clone(), tsf_us);
            }
        }
        s.keys = keys.keys;
        s.sa_query = None;
        s.sa_query_timed_out = false;
        s.ttlm = None;
        s.health.clear();
        self.events.push(Event::Associated {
            sta: s.addr,
            aid,
            links: s.links.clone(),
        });
        if self.cfg.security == Security::Open {
            return Vec::new();
        }
        self.start_handshake(si, &links.rejected, tsf_us)
            .into_iter()
            .collect()
    }
}
