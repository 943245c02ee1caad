//! `.binds((a, b, c))`: a statement's parameters side by side, in `$1, $2, …` order, on any of
//! sqlx's three query builders and either database.

use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, Encode, Type};

/// A query builder that takes parameters one at a time.
pub trait Binds<'q, DB: Database>: Sized {
    fn bind_one<T: 'q + Encode<'q, DB> + Type<DB>>(self, value: T) -> Self;

    /// Binds the tuple's members in order.
    fn binds<P: Params<'q, DB>>(self, params: P) -> Self {
        params.bind_to(self)
    }
}

impl<'q, DB: Database> Binds<'q, DB> for Query<'q, DB, <DB as Database>::Arguments> {
    fn bind_one<T: 'q + Encode<'q, DB> + Type<DB>>(self, value: T) -> Self {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> Binds<'q, DB> for QueryAs<'q, DB, O, <DB as Database>::Arguments> {
    fn bind_one<T: 'q + Encode<'q, DB> + Type<DB>>(self, value: T) -> Self {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> Binds<'q, DB> for QueryScalar<'q, DB, O, <DB as Database>::Arguments> {
    fn bind_one<T: 'q + Encode<'q, DB> + Type<DB>>(self, value: T) -> Self {
        self.bind(value)
    }
}

/// A tuple of parameters.
pub trait Params<'q, DB: Database> {
    fn bind_to<Q: Binds<'q, DB>>(self, query: Q) -> Q;
}

// A trait cannot be implemented for tuples of any length; these cover every statement's.
macro_rules! params {
    ($($t:ident),+) => {
        impl<'q, DB: Database, $($t: 'q + Encode<'q, DB> + Type<DB>),+> Params<'q, DB> for ($($t,)+) {
            #[allow(non_snake_case)]
            fn bind_to<Q: Binds<'q, DB>>(self, query: Q) -> Q {
                let ($($t,)+) = self;
                query$(.bind_one($t))+
            }
        }
    };
}

params!(A, B);
params!(A, B, C);
params!(A, B, C, D);
params!(A, B, C, D, E);
params!(A, B, C, D, E, F);
params!(A, B, C, D, E, F, G);
params!(A, B, C, D, E, F, G, H);
